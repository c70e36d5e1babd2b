"""The KPI inputs survey activity feeds, named as the KPI engine's touched-days queue
(``ingestion.touched``) names them: answers touch ``survey_responses`` (NPS, CSAT),
deliveries and answers touch ``survey_invitations`` (response rate) on the day the
invitation was sent. The engine's 5-minute task recomputes the periods holding those days."""

SURVEY_RESPONSES = "survey_responses"
SURVEY_INVITATIONS = "survey_invitations"
