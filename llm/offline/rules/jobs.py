"""Occupation head nouns: "a nurse", "a shift manager", "the UX lead", "backend dev".

A job title is a few words ending in one of these (see ``self_facts._TITLE_WORDS``); the list
is of head nouns only, so "trauma nurse" and "senior backend engineer" need no entry.
"""

from __future__ import annotations

__all__ = ["JOBS"]

JOBS = (
    r"engineer|developer|programmer|teacher|nurse|doctor|designer|manager|lawyer|chef|cook|"
    r"writer|copywriter|journalist|accountant|scientist|researcher|analyst|consultant|"
    r"architect|artist|musician|photographer|pilot|farmer|electrician|plumber|dentist|"
    r"pharmacist|therapist|librarian|professor|lecturer|editor|translator|baker|barista|"
    r"waiter|waitress|firefighter|officer|mechanic|entrepreneur|founder|freelancer|director|"
    r"product owner|intern|surgeon|veterinarian|vet|paramedic|economist|administrator|"
    r"recruiter|salesperson|specialist|coordinator|assistant|technician|strategist|"
    r"marketer|clerk|cashier|carpenter|driver|tutor|coach|counsel+or|psychologist|"
    r"physiotherapist|midwife|caregiver|social worker|secretary|auditor|banker|broker|"
    r"attorney|paralegal|programmer|statistician|illustrator|animator|producer|curator|"
    r"dev|lead|builder|supervisor|operator|dispatcher|bookkeeper|soldier|welder|"
    r"hairdresser|receptionist|janitor|courier|postman|guard|trainer|instructor"
)
