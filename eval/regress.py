"""``python -m eval.regress``: the entry point users call; the code is ``eval/report/regress.py``."""
import sys

from eval.report.regress import main

if __name__ == "__main__":
    sys.exit(main())
