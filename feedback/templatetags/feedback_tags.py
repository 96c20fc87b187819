from __future__ import annotations

from django import template

from feedback.models import Response, Survey

register = template.Library()


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key) if mapping else None


@register.filter
def sentiment_label(score: float | None) -> str | None:
    """The sentiment category (positive, neutral, negative) by the model's cut-offs; None for no score."""
    return Response.sentiment_label(score)


@register.inclusion_tag("feedback/_staff_pulse_card.html")
def staff_pulse_card() -> dict:
    """The "My work" section: anonymous staff surveys open now (one query)."""
    return {"pulses": list(Survey.objects.active().staff_pulses().order_by("title"))}
