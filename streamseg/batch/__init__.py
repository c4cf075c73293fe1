"""``streamseg batch``: many video files, one task per file, on Ray workers that load the
method once (embedded local Ray by default, a cluster with ``--ray-address``), or in this
process with one worker.

- :mod:`~streamseg.batch.inputs`: files, folders, globs, manifests -> jobs with mirrored output names;
- :mod:`~streamseg.batch.worker`: :class:`FileWorker`, the per-file work (in-process or a Ray actor);
- :mod:`~streamseg.batch.runner`: planning, scheduling (longest first, retry on worker death), stop;
- :mod:`~streamseg.batch.report`: ``batch_report.json``, the summary table, the progress bar.

The public face is :func:`streamseg.process_batch`.
"""
