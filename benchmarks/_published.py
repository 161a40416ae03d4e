"""Published volunteer-responder figures we compare with (../shared/data/figures/, cited there)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    programme: str
    figure: str
    value: str
    source: str


PUBLISHED = (
    Published(
        "Heartrunner, Stockholm 2018-20 (2,630 OHCA)",
        "responder vs EMS response time (mean)",
        "4:47 vs 8:11",
        "Resuscitation 2023;109921",
    ),
    Published(
        "Heartrunner, Stockholm 2018-20", "volunteer first on scene (before EMS)", "68%", "Resuscitation 2023;109921"
    ),
    Published(
        "TrygFonden Hjerteløber, Copenhagen 2017-18 (438 OHCA)",
        ">=1 responder before EMS",
        "42%",
        "Andelius L et al. JACC 2020;76:43-53",
    ),
    Published(
        "Momentum app, Ticino 2014-16 (134 OHCA)",
        "median call-to-arrival of the first responder",
        "3.5 min (IQR 2.8-5.2)",
        "Caputo ML et al. Resuscitation 2017;114:73-8",
    ),
    Published(
        "myResponder, Singapore 2015-19",
        "responders arriving before EMS",
        "43%",
        "Prehosp Emerg Care 2021;25:388-96",
    ),
)

ACCEPTANCE_RANGE = "23-46% across programmes, median 28.7% over 12 systems"
