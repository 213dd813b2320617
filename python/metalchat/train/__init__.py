"""Training the project's own demo models (see ``tools/train`` and ``models/``).

No weights can be downloaded, so the demo models are trained here, on CPU, in minutes, on
public-domain text that Debian ships (the King James Bible, :mod:`.corpus`):

* :mod:`.corpus` fetches and splits the text (no torch);
* :mod:`.spm` trains a SentencePiece BPE and writes llama2.c's ``tokenizer.bin`` (no torch);
* :mod:`.bpe` trains nanochat's byte-level BPE and writes its ``tokenizer.pkl`` (no torch);
* :mod:`.torch_llama` and :mod:`.torch_nanochat` are the torch models, written to match
  :mod:`metalchat.reference.llama` and :mod:`metalchat.reference.nanochat` exactly;
* :mod:`.loop` is the training loop, :mod:`.demo` puts it all together into ``models/<name>``
  (weights, tokenizer, manifest, greedy reference, README).

torch is an optional extra (``toolchains/python/requirements-torch.lock``, Bazel
``--config=torch``); only the ``torch_*`` modules, :mod:`.loop` and training import it.
"""
