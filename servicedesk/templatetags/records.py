"""Links between records of different pillars, without the page's app knowing the other pillar."""

from __future__ import annotations

from django import template

from servicedesk.registry import Mention, follow_ons_of

register = template.Library()


@register.simple_tag
def follow_ons(obj: object) -> list[Mention]:
    """``{% follow_ons response as links %}``: what other pillars opened from this record."""
    return follow_ons_of(obj)
