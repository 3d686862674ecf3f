from django.urls import path

from . import views

app_name = "demo"
urlpatterns = [path("simulate/", views.simulate, name="simulate")]
