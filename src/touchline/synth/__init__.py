"""Synthetic broadcast clips with exact ground truth.

>>> from touchline.synth import SynthConfig, Synthesizer
>>> syn = Synthesizer(SynthConfig(seconds=0.1, fps=10, size=(160, 90), camera="builtin"))
>>> frame = syn.render(0)
>>> frame.image.shape, all(o.box[2] > o.box[0] for o in frame.objects)
((90, 160, 3), True)
"""

from touchline.synth.camera import CameraPose, FollowCam, PinholeCamera
from touchline.synth.clip import SynthClip, SynthConfig, Synthesizer, iter_frames, synthesize
from touchline.synth.game import simulate_match
from touchline.synth.groundtruth import GroundTruth
from touchline.synth.render import FrameObject, RenderedFrame, Renderer, RenderStyle
from touchline.synth.scene import Actor, Scene, scene_from_lastrow, scene_from_tracks

__all__ = [
    "Actor",
    "CameraPose",
    "FollowCam",
    "FrameObject",
    "GroundTruth",
    "PinholeCamera",
    "RenderStyle",
    "RenderedFrame",
    "Renderer",
    "Scene",
    "SynthClip",
    "SynthConfig",
    "Synthesizer",
    "iter_frames",
    "scene_from_lastrow",
    "scene_from_tracks",
    "simulate_match",
    "synthesize",
]
