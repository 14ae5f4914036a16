from django import template

from catalog.labels import human_label, model_name

register = template.Library()

register.filter("label", human_label)
register.filter("model_name", model_name)
