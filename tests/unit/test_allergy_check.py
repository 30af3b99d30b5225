"""A prescriber is warned when a drug clashes with a recorded allergy."""

from __future__ import annotations

import pytest

from backend_client.chart.allergy_check import allergy_conflicts


@pytest.mark.parametrize(("drug", "allergy", "said"), [
    ("Amoxicillin", "Penicillin", "Amoxicillin is a penicillin."),
    ("Co-amoxiclav", "penicillins", "Co-amoxiclav is a penicillin."),
    ("Flucloxacillin", "Amoxicillin", "Flucloxacillin is a penicillin."),
    ("Cefalexin", "Penicillin", "Cefalexin is a cephalosporin, which can cross-react."),
    ("Ibuprofen", "Aspirin", "Ibuprofen is an NSAID."),
    ("Codeine phosphate", "Morphine", "Codeine phosphate is an opioid."),
    ("Co-trimoxazole", "Sulfa drugs", "Co-trimoxazole is a sulfonamide."),
    ("Latex gloves", "Latex", "Latex gloves is that substance."),
])
def test_a_clash_is_named_with_the_allergy_and_why(drug: str, allergy: str, said: str) -> None:
    assert allergy_conflicts(drug, [(allergy, "high")]) == (
        f"Allergic to {allergy} (high): {said}",)


@pytest.mark.parametrize(("drug", "allergy"), [
    ("Metformin", "Penicillin"), ("Paracetamol", "Aspirin"), ("", "Penicillin"),
    ("Azithromycin", "Penicillin"), ("Ramipril", "Latex"),
])
def test_no_clash_says_nothing(drug: str, allergy: str) -> None:
    assert allergy_conflicts(drug, [(allergy, "moderate")]) == ()


def test_every_clashing_allergy_is_named() -> None:
    said = allergy_conflicts("Amoxicillin", [("Penicillin", "high"), ("Latex", "low"),
                                             ("Amoxicillin", "moderate")])
    assert [s.split(":")[0] for s in said] == ["Allergic to Penicillin (high)",
                                               "Allergic to Amoxicillin (moderate)"]
