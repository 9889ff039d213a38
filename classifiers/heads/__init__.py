"""Small heads over all-MiniLM-L6-v2 embeddings, trained by this project (see ``train.py``).

Three heads judge what a segment does in a fine-tuning row: ``request`` (asks for harm),
``compliance`` (an answer that complies with a harmful request, judged with the request) and
``identity`` (redefines the assistant as unconditionally obedient). Cheap hashed n-gram
``screens`` in front of them let clearly benign text skip the transformer (see ``model.py``).
"""
