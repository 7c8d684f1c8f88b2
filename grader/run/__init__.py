"""One grading run in stage order: discover, plan, cache, execute (serial, pool, cluster),
combine."""
