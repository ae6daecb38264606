"""Answer specs and formats, the answer parser and the reasoning / instruction templates."""

from rt_grasp_ros.prompts.formats import AnswerFormat, render_answer, render_pose
from rt_grasp_ros.prompts.parser import ParsedAnswer, parse_answer
from rt_grasp_ros.prompts.spec import AnswerSpec, GraspPoseSpec, Parsed
from rt_grasp_ros.prompts.templates import TemplateLibrary, load_templates

__all__ = [
    "AnswerFormat",
    "AnswerSpec",
    "GraspPoseSpec",
    "Parsed",
    "ParsedAnswer",
    "TemplateLibrary",
    "load_templates",
    "parse_answer",
    "render_answer",
    "render_pose",
]
