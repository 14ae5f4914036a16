from django.urls import path

from gallery import views

# Seed 001's pages. /asset/<id>/download is the API's download route (gallery.urls).
urlpatterns = [
    path("library", views.library, name="library"),
    path("library/delete", views.library_delete, name="library-delete"),
    path("asset/<uuid:pk>", views.asset_page, name="asset-page"),
    path("asset/<uuid:pk>/favorite", views.asset_favorite, name="asset-favorite"),
    path("asset/<uuid:pk>/public", views.asset_public, name="asset-public"),
    path("asset/<uuid:pk>/share-prompts", views.asset_share_prompts, name="asset-share-prompts"),
    path("asset/<uuid:pk>/delete", views.asset_remove, name="asset-remove"),
]
