"""What the teams app tells the apps above it (credits opens a wallet for a new team)."""

from django.dispatch import Signal

# kwargs: team, user (the owner who made it)
team_created = Signal()
# kwargs: membership
member_joined = Signal()
# kwargs: team, user
member_left = Signal()
