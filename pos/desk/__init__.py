"""The residential-community service desk (C- requirements): work orders from every channel, routed
to a team, checked by QC, followed up, counted monthly and archived in two copies. A site pack
(:data:`pos.desk.pack.PACK`)."""
