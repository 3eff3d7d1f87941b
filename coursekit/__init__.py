"""coursekit: the small Python package behind the course notebooks.

One module, one job: ``data`` loads the cited datasets, ``quiz`` grades questions,
``quiz_view`` shows them as widgets, ``checks`` checks exercises with staged hints,
``build`` writes student exercises from the instructor solutions.
"""

__version__ = "0.1.0"
