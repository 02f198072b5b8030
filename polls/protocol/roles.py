"""Who is on the other end of a connection."""


class Role:
    PARTICIPANT = "participant"
    PANELIST = "panelist"
    PRESENTER = "presenter"
    MODERATOR = "moderator"


ROLES = (Role.PARTICIPANT, Role.PANELIST, Role.PRESENTER, Role.MODERATOR)
