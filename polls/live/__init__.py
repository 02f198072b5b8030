"""The live runtime behind a one-way door: it imports the domain (polls), the domain never
imports it; changes reach it through polls/announce.py."""
