"""Offline work that the runtime never imports: fitting the classical methods' parameters
(:mod:`~streamseg.offline.classical_fit`, ``streamseg fit``). Model training and export live in
:mod:`streamseg.train` (extra ``train``)."""
