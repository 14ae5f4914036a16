"""The ``/sdapi/v1/`` routes, included by ``legacy.urls``."""

from django.urls import path

from legacy.automatic1111 import control, generate, info, png_info

urlpatterns = [
    path("txt2img", generate.Txt2ImgView.as_view(), name="a1111-txt2img"),
    path("img2img", generate.Img2ImgView.as_view(), name="a1111-img2img"),
    path("sd-models", info.SdModelsView.as_view(), name="a1111-sd-models"),
    path("samplers", info.SamplersView.as_view(), name="a1111-samplers"),
    path("schedulers", info.SchedulersView.as_view(), name="a1111-schedulers"),
    path("loras", info.LorasView.as_view(), name="a1111-loras"),
    path("options", info.OptionsView.as_view(), name="a1111-options"),
    path("progress", info.ProgressView.as_view(), name="a1111-progress"),
    path("scripts", info.ScriptsView.as_view(), name="a1111-scripts"),
    path("interrupt", control.InterruptView.as_view(), name="a1111-interrupt"),
    path("skip", control.SkipView.as_view(), name="a1111-skip"),
    path("png-info", png_info.PngInfoView.as_view(), name="a1111-png-info"),
]
