"""Does a drug clash with a recorded allergy? A first line of defence a prescriber sees
while typing, not a drug database: the substance itself, or a drug of the same family as
the allergen (a penicillin for "Penicillin", an NSAID for "Aspirin", ...), by name. It never
says "safe": an empty answer only means none of these rules matched."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# family → (what a prescriber calls it, members by name; an allergy to the family's name or
# to any member warns for every member). Cross-reactions across families (a cephalosporin
# after a penicillin allergy) are warned as "related" below.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "penicillin": ("a penicillin", (
        "penicillin", "amoxicillin", "amoxycillin", "ampicillin", "flucloxacillin",
        "cloxacillin", "dicloxacillin", "benzylpenicillin", "phenoxymethylpenicillin",
        "piperacillin", "co-amoxiclav", "augmentin", "pivmecillinam", "temocillin")),
    "cephalosporin": ("a cephalosporin", (
        "cephalosporin", "cefalexin", "cephalexin", "cefuroxime", "ceftriaxone",
        "cefotaxime", "ceftazidime", "cefixime", "cefaclor", "cefadroxil", "cefazolin")),
    "sulfonamide": ("a sulfonamide", (
        "sulfonamide", "sulfa", "sulphonamide", "sulfamethoxazole", "co-trimoxazole",
        "trimethoprim-sulfamethoxazole", "sulfasalazine", "sulfadiazine")),
    "nsaid": ("an NSAID", (
        "nsaid", "aspirin", "acetylsalicylic acid", "ibuprofen", "naproxen", "diclofenac",
        "indometacin", "indomethacin", "ketoprofen", "celecoxib", "etoricoxib", "mefenamic",
        "piroxicam", "meloxicam")),
    "opioid": ("an opioid", (
        "opioid", "opiate", "codeine", "morphine", "oxycodone", "tramadol", "dihydrocodeine",
        "hydromorphone", "fentanyl", "pethidine", "tapentadol")),
    "macrolide": ("a macrolide", (
        "macrolide", "erythromycin", "clarithromycin", "azithromycin")),
    "tetracycline": ("a tetracycline", (
        "tetracycline", "doxycycline", "minocycline", "lymecycline", "oxytetracycline")),
    "quinolone": ("a quinolone", (
        "quinolone", "fluoroquinolone", "ciprofloxacin", "levofloxacin", "moxifloxacin",
        "ofloxacin")),
    "ace inhibitor": ("an ACE inhibitor", (
        "ace inhibitor", "ramipril", "lisinopril", "enalapril", "perindopril", "captopril")),
}
# Allergy family → drug families that may cross-react.
RELATED = {"penicillin": ("cephalosporin",)}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9\- ]", " ", text)).strip()


def _families(name: str) -> set[str]:
    folded = _fold(name)
    words = set(folded.split())
    return {family for family, (_, members) in FAMILIES.items()
            if any(m == folded or m in words or (" " in m and m in folded)
                   or folded.startswith(m) for m in members)}


def allergy_conflicts(drug: str, allergies: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Sentences for each recorded allergy ``(substance, severity)`` the drug clashes with,
    e.g. "Allergic to Penicillin (high): Amoxicillin is a penicillin."; () when none."""
    drug_name = drug.strip()
    if not drug_name:
        return ()
    drug_folded = _fold(drug_name)
    drug_families = _families(drug_name)
    found: list[str] = []
    for substance, severity in allergies:
        allergen = _fold(substance)
        if not allergen:
            continue
        head = f"Allergic to {substance.strip()} ({severity})"
        allergen_families = _families(substance)
        if allergen in drug_folded or drug_folded in allergen:
            found.append(f"{head}: {drug_name} is that substance.")
        elif shared := drug_families & allergen_families:
            found.append(f"{head}: {drug_name} is {FAMILIES[min(shared)][0]}.")
        elif related := {r for a in allergen_families for r in RELATED.get(a, ())
                         } & drug_families:
            found.append(f"{head}: {drug_name} is {FAMILIES[min(related)][0]}, which "
                         "can cross-react.")
    return tuple(found)
