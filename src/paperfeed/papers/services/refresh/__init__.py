"""Background refreshes of what other services know about a paper: its repository's GitHub stars (github.py) and
the Hugging Face models, datasets and Spaces that cite it (hf_artifacts.py). Run by the task queue
(background.refresh) and by `paperfeed refresh`; pages only read what these stored."""
