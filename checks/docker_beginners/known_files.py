"""The files this lab gives the student unchanged, by hash: what the server knows them by.

A passed check records the hash of each file it read (``prove_file``). For a file the lab
hands out and never asks the student to change, a hash that is none of these is a made-up
one (or an edited file): the server flags it ``unknown_file`` (docs/server.md, the flags).
The hashes are :func:`submissions.dialect.file_digest`'s (sha256, line endings as LF), so a
Windows checkout matches too.

Which files, and why only these:

- ``tweet_app/index.html``, the page task 2 serves: every version of ``index.html`` in the
  history of ``dockersamples/linux_tweet_app`` (a student clones it whenever they do the lab),
  and of ``index-new.html`` and ``index-original.html`` beside it (the upstream lab's "modify
  a running website" copies one over ``index.html``), each named by its git blob; and the
  workshop's stand-in clone (``devlab.model_student``, which has no network).

Not checked: ``tweet_app/Dockerfile`` (the check accepts any recipe that packages the app:
upstream has three versions, the lab's write-up a fourth, editors strip its trailing tab, and
a student may pin another nginx), nor task 4's ``hello/Dockerfile`` and ``hello/index.js``,
which the student types from the lab's text.

To add a version, hash it with ``file_digest`` and list it here (then
``python -m grader.run.rubric --write``); an instructor can add one to their own rubric's
``known_files``.
"""

from __future__ import annotations

KNOWN_FILES: dict[str, frozenset[str]] = {
    "tweet_app/index.html": frozenset(
        {
            # index.html
            "931a750d37cc93f06d90f6b6fc3e80fa6cc2360fbc9ee2f8c7b93c86e96138a6",  # d9ccb60
            "21050531e9c18f2e8b910bf2b7f43f8b953950a24c92b5fbd7d8bac5f3cc639b",  # d513075
            "eabb13491184bba94638dd40a2fea1e91a9af70a4ed00672d53e042435f6b4e7",  # 285c32b
            "2cc3fca15a1c70f546ef667f85fae9fbf9f4632779794cfc4bd3e235ed9d8e2b",  # 2808c1b
            "e45ac3fbb641c9d0f51eb997b29c815e759af1117347dd8dafab48aa9e78bddf",  # d203a88
            "defae4ba08f5a727b26c1c657f5b0d274c0fcf9945c74b109f7028393590e7ef",  # b050a5d
            "24e93ec32d7660d9aaf6ba9c713769ed189bdffb4d92b2c78b6618a0127a94e0",  # 8abf5ec
            "a9244c395e13a08cc8410bab04fbd1479dae71eb4d3b93e78a1b10187543c890",  # a40da0e
            # index-new.html
            "63a0b5095ec3cc47d00a9257743d6cd4a3afc8a03f985006ab503f7b3f5465fc",  # 9220b61
            "0f4794569a53e5a2b28282362d09b11b428640547223179089bc944f3ecf15bc",  # 3db7296
            "ecd7571da95e4667779af204a752e2e8683b62d4636d7a8cbc74677c5eceb459",  # 8af6cd8
            # index-original.html
            "63cfaee4ff5640c7738cf6e4a318ef3aa27ba51d7ae2da3f4e5a6dcb40be3caf",  # f386394
            "d888f482785165d5fcba81e9f080610c1a5f65c935c46d3707abc57ae8b0e77f",  # 1cd3469
            # the workshop's stand-in (devlab.model_student.TWEET_INDEX_HTML)
            "7e81c9209ce9c75e5ada521caf817793e6e2413d193ee159fee5cb1ca8f660c1",
        }
    ),
}
