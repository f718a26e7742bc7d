"""``python -m eval.leaderboard``: the entry point users call; the code is ``eval/report/leaderboard.py``."""
import sys

from eval.report.leaderboard import main

if __name__ == "__main__":
    sys.exit(main())
