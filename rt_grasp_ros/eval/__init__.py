"""Scoring model answers with the rectangle metric, and reporting the results."""

from rt_grasp_ros.eval.predictions import read_predictions, write_predictions
from rt_grasp_ros.eval.scoring import EvaluationReport, evaluate_answers

__all__ = ["EvaluationReport", "evaluate_answers", "read_predictions", "write_predictions"]
