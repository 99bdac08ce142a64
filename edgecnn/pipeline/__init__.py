"""``edgecnn pipeline``: from data to the best model that meets every budget on every board.

So far: the configuration (``config``) and the budget selection (``select``); the
orchestration and report come next.
"""
