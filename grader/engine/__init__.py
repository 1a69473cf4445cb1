"""What the Docker engine holds, read once and named: the facts every check judges.

Containers, images and events as small objects with names that explain Docker's quirks
(:mod:`~grader.engine.facts`), read lazily once per run and shared by every check
(:mod:`~grader.engine.state`), events kept beyond the engine's memory
(:mod:`~grader.engine.remembered`), whether an image was made by ``docker commit``
(:mod:`~grader.engine.commit_detection`), what proved a passed check
(:mod:`~grader.engine.proof`), and the threads slow reads run in
(:mod:`~grader.engine.background`). New engines (Podman) and shapes go here and nowhere
else. Which engine is read and how it is reached is :mod:`grader.targets`'s job.
"""
