"""Background work: the task queue (Django's task API through django-tasks, the database as the queue) and the
`paperfeed worker` processes that run it.

Nothing slow or fallible happens inside a web request: emails, embedding new papers, index upkeep and model refits
are tasks. A task lives in a database row until a worker has finished it, so a worker that dies (even by SIGKILL)
loses nothing: its tasks go back to the queue once its heartbeat stops (`workers.recover_abandoned`).
"""
