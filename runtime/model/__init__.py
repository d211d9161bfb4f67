"""The model file and its checks: the bytes (file), the wire format, the integrity digest, the manifest, the golden
vectors and the onnxruntime session. Nothing here imports onnxruntime until a session is made (session)."""
