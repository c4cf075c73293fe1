"""Offline work that the runtime never imports: fitting the classical methods' parameters
(:mod:`~streamseg.offline.classical_fit`, ``streamseg fit``) and writing ground-truth pseudo-videos
(:mod:`~streamseg.offline.pseudo_video`, ``streamseg pseudo-video``). Model training and export live in
:mod:`streamseg.train` (extra ``train``)."""
