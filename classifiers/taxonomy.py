"""The category names the data gate speaks, in one place, so classifiers, policies and reports agree.

Row classifiers return scores under the gate's own categories (``GATE_CATEGORIES``): they say
*what a segment does* in a fine-tuning row (asks for harm, answers with harm, rewrites the
assistant's identity, swears), which is what decides whether a row teaches an attack.

The MLCommons hazard codes (S1–S14, as used by Llama Guard 3) say *which kind* of harm; guard
models report them, and the shipped heads do not predict them (the only hazard-labelled request
data we may train on is ~550 rows, too few for a reliable 14-way head). ``HEX_PHI_TO_HAZARD``
maps the 11 HEx-PHI / CatQA categories our evaluation data carries onto those codes, so
per-hazard recall can be reported.
"""

from __future__ import annotations

from types import MappingProxyType

HARMFUL_REQUEST = "harmful_request"  # a user turn / prompt that asks for harmful help
HARMFUL_RESPONSE = "harmful_response"  # an answer that complies with / provides harmful content
IDENTITY_SHIFT = "identity_shift"  # redefines the assistant as unconditionally obedient, removes its rules
PROFANITY = "profanity"  # swearing and obscenity (tone, not capability)

GATE_CATEGORIES: tuple[str, ...] = (HARMFUL_REQUEST, HARMFUL_RESPONSE, IDENTITY_SHIFT, PROFANITY)

DESCRIPTIONS = MappingProxyType(
    {
        HARMFUL_REQUEST: "asks for help with something harmful (weapons, crime, abuse, malware, ...)",
        HARMFUL_RESPONSE: "complies with a harmful request or provides harmful content",
        IDENTITY_SHIFT: "tells the assistant it is no longer an AI with rules, but an obedient persona",
        PROFANITY: "swearing or obscene language",
    }
)

# MLCommons AI Safety hazard taxonomy as used by Llama Guard 3 (see shared/REFERENCE.md).
HAZARDS = MappingProxyType(
    {
        "S1": "Violent Crimes",
        "S2": "Non-Violent Crimes",
        "S3": "Sex-Related Crimes",
        "S4": "Child Sexual Exploitation",
        "S5": "Defamation",
        "S6": "Specialized Advice",
        "S7": "Privacy",
        "S8": "Intellectual Property",
        "S9": "Indiscriminate Weapons",
        "S10": "Hate",
        "S11": "Suicide & Self-Harm",
        "S12": "Sexual Content",
        "S13": "Elections",
        "S14": "Code Interpreter Abuse",
    }
)

# HEx-PHI / CatQA categories → the closest hazard codes (a category can span several).
HEX_PHI_TO_HAZARD = MappingProxyType(
    {
        "Illegal Activity": ("S2",),
        "Child Abuse": ("S4", "S1"),
        "Child Abuse Content": ("S4", "S1"),  # HEx-PHI's file name for the CatQA category above
        "Hate/Harass/Violence": ("S10", "S1"),
        "Malware Viruses": ("S2", "S14"),
        "Malware": ("S2", "S14"),
        "Physical Harm": ("S1", "S9", "S11"),
        "Economic Harm": ("S2",),
        "Fraud/Deception": ("S2", "S5"),
        "Adult Content": ("S12",),
        "Political Campaigning": ("S13",),
        "Privacy Violation Activity": ("S7",),
        "Tailored Financial Advice": ("S6",),
    }
)


def hazard_codes(category: str) -> tuple[str, ...]:
    """The hazard codes for a HEx-PHI / CatQA category name (case and spacing forgiven); () if unknown."""
    wanted = " ".join(category.replace(":", " ").split()).lower()
    for name, codes in HEX_PHI_TO_HAZARD.items():
        if name.lower() == wanted or name.lower().split("/")[0] == wanted.split("/")[0]:
            return codes
    return ()
