from django import template

from frontline.duty.roster import span_label

register = template.Library()


@register.simple_tag
def span(start, end, day) -> str:
    """`{% span gap.start gap.end day %}`: 00:00–24:00 for a whole day, not 00:00–00:00."""
    return span_label(start, end, day)
