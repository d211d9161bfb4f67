"""The model layer's fast path: the bound call into onnxruntime (binding.py), reached only by session.Runner."""
