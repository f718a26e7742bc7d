"""Evaluation: metrics, runtime, score, the evaluator, leaderboard and regression gate."""
