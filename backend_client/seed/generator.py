"""Deterministic synthetic clinic data: patients, providers with working hours, and
appointments for the coming weeks.

Pure Python, no I/O, no clock: everything follows from an integer ``seed`` and the
``today`` the caller passes. Each kind of data draws from its own ``random.Random``
stream (seeded from a string, which Python hashes with SHA-512, so the streams are the
same in every process whatever ``PYTHONHASHSEED`` is), and patients come out one at a
time, so a million of them never sit in memory together and the first ``n`` patients are
the same whatever the total.

Nothing here knows database ids or MRNs; the loader assigns those.
"""

from __future__ import annotations

import bisect
import random
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from anyascii import anyascii

from backend_client.dto import Contact
from backend_client.seed import names_data as nd

# -------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class PreviousName:
    given_name: str
    family_name: str
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class SyntheticPatient:
    given_name: str
    middle_name: str
    family_name: str
    preferred_name: str
    birth_date: date
    sex: str
    gender_identity: str
    phone: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    language: str
    deceased_at: date | None
    previous_names: tuple[PreviousName, ...] = ()
    insurance: tuple[str, str] | None = None      # (number, issuer)
    contact: Contact | None = None
    culture: str = ""


@dataclass(frozen=True, slots=True)
class WorkingHours:
    weekday: int      # ISO: 1 = Monday
    starts_at: time
    ends_at: time


@dataclass(frozen=True, slots=True)
class SyntheticProvider:
    title: str
    given_name: str
    family_name: str
    specialty: str
    license_number: str
    hours: tuple[WorkingHours, ...]


@dataclass(frozen=True, slots=True)
class AppointmentType:
    """A row of ``appointment_types`` as the loader read it."""

    id: int
    name: str
    minutes: int


@dataclass(frozen=True, slots=True)
class PatientPool:
    """Ids of the (living) patients appointments may be booked for, by who sees them."""

    children: Sequence[int]
    adults: Sequence[int]
    women: Sequence[int]     # adult women of child-bearing age, for obstetrics

    def __bool__(self) -> bool:
        return bool(self.children or self.adults)


@dataclass(frozen=True, slots=True)
class SyntheticAppointment:
    provider_id: int
    patient_id: int
    appointment_type_id: int
    starts_at: datetime       # naive wall-clock time in the clinic's time zone
    ends_at: datetime
    status: str
    reason: str


# ------------------------------------------------------------------ fixed demo people


@dataclass(frozen=True, slots=True)
class DemoPatient:
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    middle_name: str = ""
    preferred_name: str = ""
    language: str = "en"
    previous_family_name: str = ""
    deceased_at: date | None = None


# Recognisable people for demos and for tests of hard names (accents, apostrophes,
# hyphens, other scripts, previous names, a misspelling pair). Never real people.
DEMO_PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient("Anna", "Müller", date(1984, 3, 12), "female", language="de"),
    DemoPatient("Seán", "O'Brien", date(1971, 11, 2), "male", language="en"),
    DemoPatient("Иван", "Иванов", date(1958, 7, 23), "male", middle_name="Петрович",
                language="ru"),
    DemoPatient("芳", "王", date(1990, 1, 30), "female", language="zh"),
    DemoPatient("Lan", "Nguyễn", date(1979, 5, 17), "female", middle_name="Thị",
                language="vi"),
    DemoPatient("María José", "García-López", date(1995, 9, 8), "female", language="es"),
    DemoPatient("John", "Smith", date(1962, 4, 1), "male", preferred_name="Jack"),
    DemoPatient("Jon", "Smyth", date(1962, 4, 1), "male"),
    DemoPatient("Mohammed", "Al-Sayed", date(1988, 12, 19), "male", language="ar"),
    DemoPatient("Emily", "Clarke", date(1986, 6, 14), "female",
                previous_family_name="Thompson"),
    DemoPatient("Łukasz", "Wójcik", date(2015, 2, 27), "male", language="pl"),
    DemoPatient("Zoë", "Schäfer-Weiß", date(2021, 8, 5), "female", language="de"),
    DemoPatient("Arthur", "Phillips", date(1931, 10, 10), "male",
                deceased_at=date(2019, 1, 15)),
)


# ----------------------------------------------------------------------- name helpers

_RU_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}
_RU_VOWELS = set("аеёиоуыэюя")


def transliterate_russian(name: str) -> str:
    """Passport-like Latin spelling (``Васильев`` → ``Vasilyev``, ``Юрий`` → ``Yuriy``)."""
    lower = name.lower()
    out: list[str] = []
    for i, ch in enumerate(lower):
        prev = lower[i - 1] if i else ""
        nxt = lower[i + 1] if i + 1 < len(lower) else ""
        if ch in "её" and (not prev or prev in _RU_VOWELS or prev in "ьъ"):
            out.append("ye")
        elif ch == "ь" and nxt in ("и", "о"):
            out.append("y")
        else:
            out.append(_RU_LATIN.get(ch, ch))
    latin = "".join(out)
    if latin.endswith("skiy"):
        latin = latin[:-4] + "sky"
    return latin[:1].upper() + latin[1:]


def feminine_surname(culture: str, surname: str) -> str:
    """The form a woman's surname takes in languages that inflect it."""
    if culture == "russian":
        for masc, fem in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая")):
            if surname.endswith(masc):
                return surname[: -len(masc)] + fem
        if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
            return surname + "а"
        return surname
    if culture == "polish":
        for masc, fem in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
            if surname.endswith(masc):
                return surname[: -len(masc)] + fem
        return surname
    if culture == "irish_scottish":
        # Irish-language surnames: Mac → Nic, Ó → Ní for a woman (Ní Bhriain is rarer on
        # forms than the anglicised O'Brien, which stays as it is).
        if surname.startswith("Mac "):
            return "Nic " + surname[4:]
        if surname.startswith("Ó "):
            return "Ní " + surname[2:]
        return surname
    if culture == "greek":
        for masc, fem in (("opoulos", "opoulou"), ("idis", "idou"), ("akis", "aki"),
                          ("atos", "atou"), ("os", "ou"), ("is", "i"), ("as", "a")):
            if surname.endswith(masc):
                return surname[: -len(masc)] + fem
    return surname


_PATRONYMIC_IRREGULAR = {
    "Пётр": ("Петрович", "Петровна"), "Лев": ("Львович", "Львовна"),
    "Павел": ("Павлович", "Павловна"), "Илья": ("Ильич", "Ильинична"),
    "Никита": ("Никитич", "Никитична"), "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Георгий": ("Георгиевич", "Георгиевна"),
}


def russian_patronymic(father: str, female: bool) -> str:
    if father in _PATRONYMIC_IRREGULAR:
        return _PATRONYMIC_IRREGULAR[father][1 if female else 0]
    if father.endswith("ий"):
        stem, m, f = father[:-2], "ьевич", "ьевна"
    elif father.endswith(("й", "ь")):
        stem, m, f = father[:-1], "евич", "евна"
    else:
        stem, m, f = father, "ович", "овна"
    return stem + (f if female else m)


def strip_accents(text: str) -> str:
    """``Nguyễn`` → ``Nguyen``, ``Đặng`` → ``Dang``: how diacritics get lost on forms."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if not unicodedata.combining(c)))


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def _ascii_local(text: str) -> str:
    return "".join(c for c in anyascii(text).lower() if c.isalnum())


# ----------------------------------------------------------------- other value pools

# Share of patients by age in 5-year bands 0–4 … 95–99 (a clinic list skews a little old).
_AGE_BANDS = (5.4, 5.7, 5.9, 5.9, 6.1, 6.6, 6.9, 6.7, 6.3, 6.2, 6.5, 6.7, 6.4, 5.7, 4.9,
              3.6, 2.4, 1.4, 0.6, 0.2)
_AGE_CUM = tuple(sum(_AGE_BANDS[: i + 1]) for i in range(len(_AGE_BANDS)))

_US_AREA_CODES = (
    "201 202 206 212 213 214 215 216 217 301 303 305 310 312 313 314 323 347 404 408 412 "
    "415 425 503 510 512 602 612 617 619 626 646 650 702 713 718 720 773 804 808 818 857 "
    "904 917 949 971"
).split()

_CITIES = (
    ("Springfield", "IL", "627"), ("Riverside", "CA", "925"), ("Fairview", "OR", "970"),
    ("Franklin", "TN", "370"), ("Greenville", "SC", "296"), ("Bristol", "CT", "060"),
    ("Clinton", "MA", "015"), ("Madison", "WI", "537"), ("Georgetown", "TX", "786"),
    ("Salem", "OR", "973"), ("Arlington", "VA", "222"), ("Ashland", "OR", "975"),
    ("Burlington", "VT", "054"), ("Dover", "DE", "199"), ("Milton", "MA", "021"),
    ("Newport", "RI", "028"), ("Oxford", "MS", "386"), ("Auburn", "AL", "368"),
    ("Jackson", "MS", "392"), ("Lexington", "KY", "405"), ("Manchester", "NH", "031"),
    ("Chester", "PA", "190"), ("Hudson", "NY", "125"), ("Kingston", "NY", "124"),
    ("Lebanon", "PA", "170"), ("Marion", "OH", "433"), ("Mount Vernon", "NY", "105"),
    ("Portland", "ME", "041"), ("Richmond", "VA", "232"), ("Winchester", "VA", "226"),
    ("Boston", "MA", "021"), ("Chicago", "IL", "606"), ("Houston", "TX", "770"),
    ("Seattle", "WA", "981"), ("Denver", "CO", "802"), ("Atlanta", "GA", "303"),
    ("Philadelphia", "PA", "191"), ("San Diego", "CA", "921"), ("Austin", "TX", "787"),
    ("Minneapolis", "MN", "554"),
)
_STREETS = (
    "Main Oak Maple Cedar Pine Elm Washington Lake Hill Park View Church Walnut Spruce "
    "Highland Sunset Railroad Jefferson Lincoln Madison Adams Franklin River Forest Meadow "
    "Willow Cherry Chestnut Spring Mill Center Union Prospect Pleasant Ridge Valley Broad "
    "Market Water School Academy Orchard Birch Dogwood Magnolia Sycamore Hickory Poplar "
    "Laurel Cypress Jackson Grant Monroe Harrison Cleveland Kennedy Liberty Independence"
).split()
_STREET_KINDS = ("St", "Street", "Ave", "Avenue", "Rd", "Road", "Ln", "Dr", "Drive", "Blvd",
                 "Ct", "Way", "Pl", "Terrace", "Circle")
# (format, how many random digits it takes)
_INTL_PHONES = (("+44 7700 9{:05d}", 5), ("+49 151 {:08d}", 8), ("+33 6 {:08d}", 8),
                ("+34 6{:08d}", 8), ("+52 55 {:08d}", 8), ("+91 98{:08d}", 8),
                ("+234 80{:08d}", 8), ("+90 5{:09d}", 9), ("+48 5{:08d}", 8),
                ("+84 9{:08d}", 8), ("+86 13{:09d}", 9), ("+7 9{:09d}", 9))
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com",
                  "post.example.org")
_INSURERS = ("Blue Cross Blue Shield", "Aetna", "UnitedHealthcare", "Cigna", "Humana",
             "Kaiser Permanente", "Anthem", "Centene", "Molina Healthcare", "Medicaid")
_RELATIONSHIPS_ADULT = (("spouse", 45), ("partner", 12), ("child", 15), ("sibling", 12),
                        ("parent", 8), ("friend", 8))
_VIETNAMESE_MIDDLE = "Ngọc Minh Đức Hữu Thanh Xuân Quốc Hoài Bảo Kim Thu Mỹ Công Gia".split()

SPECIALTIES: tuple[tuple[str, float], ...] = (
    ("Family medicine", 35), ("Internal medicine", 12), ("Paediatrics", 12),
    ("Obstetrics and gynaecology", 6), ("Cardiology", 6), ("Dermatology", 5),
    ("Psychiatry", 5), ("Orthopaedics", 4), ("Neurology", 3), ("Endocrinology", 3),
    ("Ear, nose and throat", 3), ("Ophthalmology", 2), ("Gastroenterology", 2),
    ("Geriatric medicine", 2),
)

_REASONS: dict[str, tuple[str, ...]] = {
    "": ("Annual check-up", "Blood pressure review", "Cough", "Medication review",
         "Back pain", "Blood test results", "Skin rash", "Diabetes review", "Vaccination",
         "Headache", "Sore throat", "Fatigue", "Sick note", "Joint pain", "Ear pain",
         "Follow-up", "Travel advice", "Smoking cessation", "Asthma review",
         "Cholesterol review", "Repeat prescription", "Abdominal pain", "Dizziness", ""),
    "Paediatrics": ("Well-child visit", "Vaccination", "Fever", "Ear infection", "Cough",
                    "Growth check", "Rash", "Asthma review", "School form", ""),
    "Obstetrics and gynaecology": ("Prenatal visit", "Postnatal check", "Cervical screening",
                                   "Contraception", "Ultrasound results", "Pelvic pain", ""),
    "Cardiology": ("Chest pain", "Palpitations", "ECG review", "Heart failure review",
                   "Hypertension", "Post-stent follow-up", ""),
    "Dermatology": ("Mole check", "Eczema", "Acne", "Psoriasis", "Skin biopsy", ""),
    "Psychiatry": ("Initial assessment", "Medication review", "Anxiety", "Low mood", ""),
    "Orthopaedics": ("Knee pain", "Hip pain", "Fracture follow-up", "Shoulder pain", ""),
}

_TYPE_WEIGHTS = {"Consultation": 50.0, "Follow-up": 22.0, "Long consultation": 12.0,
                 "New patient": 10.0, "Procedure": 6.0}

_BOOKED, _CANCELLED = "booked", "cancelled"


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"dr-assistant-seed:{seed}:{name}")


def _weighted(items: Sequence[tuple[str, float]]) -> nd.WeightedNames:
    return nd.WeightedNames(tuple(i for i, _ in items), tuple(w for _, w in items))


# ------------------------------------------------------------------------ generator


class ClinicGenerator:
    """Synthetic data of one clinic. Same ``seed`` and ``today``, same data."""

    def __init__(self, seed: int, today: date) -> None:
        self.seed = seed
        self.today = today
        self._pools = {p.culture.key: p for p in nd.culture_pools()}
        self._cultures = nd.culture_weights()
        self._english = self._pools["english"]
        self._adopted_m = nd.WeightedNames(tuple(nd.ADOPTED_ENGLISH_MALE.split()),
                                           (1.0,) * len(nd.ADOPTED_ENGLISH_MALE.split()))
        self._adopted_f = nd.WeightedNames(tuple(nd.ADOPTED_ENGLISH_FEMALE.split()),
                                           (1.0,) * len(nd.ADOPTED_ENGLISH_FEMALE.split()))
        self._languages = {c.key: _weighted(c.languages) for c in nd.CULTURES}
        self._relationships = _weighted(_RELATIONSHIPS_ADULT)
        self._specialties = _weighted(SPECIALTIES)

    # ------------------------------------------------------------------ patients

    def patients(self, count: int) -> Iterator[SyntheticPatient]:
        """``count`` patients, one at a time."""
        rng = _stream(self.seed, "patients")
        for _ in range(count):
            yield self._patient(rng)

    def _birth_date(self, rng: random.Random) -> tuple[date, int]:
        band = bisect.bisect_right(_AGE_CUM, rng.random() * _AGE_CUM[-1])
        band = min(band, len(_AGE_BANDS) - 1)
        age_days = int((band * 5 + rng.random() * 5) * 365.2425)
        born = date.fromordinal(max(self.today.toordinal() - age_days,
                                    date(1900, 1, 1).toordinal()))
        return born, age_days // 365

    def _names(self, rng: random.Random, culture: str, sex: str, age: int
               ) -> tuple[str, str, str, str, tuple[PreviousName, ...], str]:
        """(given, middle, family, preferred, previous names, script) of one person."""
        pools = self._pools[culture]
        c = pools.culture
        female = sex == "female" or (sex not in ("male", "female") and rng.random() < 0.5)
        given_pool = pools.female if female else pools.male
        given = given_pool.pick(rng)
        native_given = given
        family = pools.surnames.pick(rng)
        middle = ""
        preferred = ""
        script = "latin"

        if rng.random() < c.middle_rate:
            if culture == "russian":
                middle = russian_patronymic(pools.male.pick(rng), female)
            elif culture == "vietnamese":
                r = rng.random()
                middle = ("Thị" if female and r < 0.7 else "Văn" if not female and r < 0.55
                          else rng.choice(_VIETNAMESE_MIDDLE))
            elif culture == "arabic":
                middle = pools.male.pick(rng)          # the father's name
            else:
                middle = given_pool.pick(rng)
                if middle == given:
                    middle = ""
        if female:
            family = feminine_surname(culture, family)

        if culture == "spanish" and rng.random() < 0.3:
            second = pools.surnames.pick(rng)
            if second != family:
                family = f"{family}{'-' if rng.random() < 0.4 else ' '}{second}"
        elif culture == "english" and rng.random() < 0.015:
            second = pools.surnames.pick(rng)
            if second != family:
                family = f"{family}-{second}"

        # Second-generation patients often have an English given name.
        assimilated = False
        if culture not in ("english", "irish_scottish"):
            p = 0.25 if age < 30 else 0.12 if age < 60 else 0.04
            if rng.random() < p:
                given = (self._english.female if female else self._english.male).pick(rng)
                assimilated = True

        if culture == "russian":
            if not assimilated and rng.random() < 0.3:
                script = "cyrillic"
            else:
                family = transliterate_russian(family)
                given = given if assimilated else transliterate_russian(given)
                middle = transliterate_russian(middle) if middle else ""
        elif culture == "chinese" and not assimilated and rng.random() < 0.15:
            fam_h, giv_h = nd.SURNAME_HANZI.get(family), nd.GIVEN_HANZI.get(given)
            if fam_h and giv_h:
                family, given, script = fam_h, giv_h, "hanzi"
        elif culture == "vietnamese" and rng.random() < 0.5:
            family, given, middle = strip_accents(family), strip_accents(given), (
                strip_accents(middle))

        # Preferred names: nicknames, or an English name an East Asian patient goes by.
        r = rng.random()
        nick = nd.NICKNAMES.get(given if assimilated else native_given)
        if nick and r < 0.25:
            preferred = rng.choice(nick)
            if script == "latin" and _is_cyrillic(preferred):
                preferred = transliterate_russian(preferred)
            elif script == "cyrillic" and not _is_cyrillic(preferred):
                preferred = ""
        elif culture in ("chinese", "vietnamese", "japanese") and not assimilated and r < 0.12:
            preferred = (self._adopted_f if female else self._adopted_m).pick(rng)

        # Previous family names: mostly women who took a spouse's name.
        previous: tuple[PreviousName, ...] = ()
        keeps_name = culture in ("spanish", "chinese", "vietnamese", "arabic")
        p_prev = (0.02 if keeps_name else 0.09) if female and age >= 22 else 0.0
        if p_prev and rng.random() < p_prev:
            if script != "latin" or rng.random() < 0.7:
                new_family = pools.surnames.pick(rng)
                new_family = feminine_surname(culture, new_family)
                if culture == "russian" and script == "latin":
                    new_family = transliterate_russian(new_family)
            else:
                new_family = self._english.surnames.pick(rng)
            if new_family != family:
                if script == "latin" and rng.random() < 0.15:
                    new_family = f"{family}-{new_family}"
                years_married = rng.randint(0, max(0, age - 20))
                valid_to = date.fromordinal(self.today.toordinal() - years_married * 365
                                            - rng.randint(0, 364))
                previous = (PreviousName(given, family, valid_to),)
                family = new_family
        return given, middle, family, preferred, previous, script

    def _patient(self, rng: random.Random) -> SyntheticPatient:
        culture = self._cultures.pick(rng)
        r = rng.random()
        sex = "female" if r < 0.505 else "male" if r < 0.995 else (
            "other" if r < 0.998 else "unknown")
        born, age = self._birth_date(rng)
        given, middle, family, preferred, previous, script = self._names(rng, culture, sex, age)

        deceased_at: date | None = None
        p_dead = 0.002 if age < 50 else 0.01 if age < 70 else 0.04 if age < 85 else 0.1
        if rng.random() < p_dead:
            earliest = max(born.toordinal(), self.today.toordinal() - 3650)
            deceased_at = date.fromordinal(rng.randint(earliest, self.today.toordinal()))

        phone = self._phone(rng) if rng.random() < 0.92 else ""
        email = ""
        if rng.random() < (0.6 if 18 <= age < 70 else 0.2):
            email = self._email(rng, given, family, born.year)
        if rng.random() < 0.96:
            city, region, zip3 = rng.choice(_CITIES)
            line1 = f"{rng.randint(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}"
            line2 = (f"Apt {rng.randint(1, 40)}{rng.choice('ABCDEF')}"
                     if rng.random() < 0.15 else "")
            postal = f"{zip3}{rng.randint(0, 99):02d}"
            country = "US"
        else:
            city = region = postal = line1 = line2 = country = ""
        language = self._languages[culture].pick(rng) if script == "latin" else (
            "ru" if script == "cyrillic" else "zh")

        insurance: tuple[str, str] | None = None
        if rng.random() < 0.3:
            if age >= 65:
                insurance = (self._mbi(rng), "Medicare")
            else:
                letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
                insurance = (f"{letters}{rng.randint(0, 999_999_999):09d}",
                             rng.choice(_INSURERS))

        contact: Contact | None = None
        if rng.random() < 0.35:
            contact = self._contact(rng, culture, family, age, script)

        gender_identity = "non-binary" if sex == "other" and rng.random() < 0.5 else ""
        return SyntheticPatient(
            given_name=given, middle_name=middle, family_name=family,
            preferred_name=preferred, birth_date=born, sex=sex,
            gender_identity=gender_identity, phone=phone, email=email,
            address_line1=line1, address_line2=line2, city=city, region=region,
            postal_code=postal, country=country, language=language, deceased_at=deceased_at,
            previous_names=previous, insurance=insurance, contact=contact, culture=culture,
        )

    @staticmethod
    def _phone(rng: random.Random) -> str:
        if rng.random() < 0.03:
            fmt, digits = rng.choice(_INTL_PHONES)
            return fmt.format(rng.randint(0, 10 ** digits - 1))
        area = rng.choice(_US_AREA_CODES)
        exchange = rng.randint(201, 999)
        line = rng.randint(0, 9999)
        r = rng.random()
        if r < 0.45:
            return f"({area}) {exchange}-{line:04d}"
        if r < 0.75:
            return f"{area}-{exchange}-{line:04d}"
        if r < 0.85:
            return f"+1 {area} {exchange} {line:04d}"
        if r < 0.95:
            return f"{area}{exchange}{line:04d}"
        return f"{area}.{exchange}.{line:04d}"

    @staticmethod
    def _email(rng: random.Random, given: str, family: str, born: int) -> str:
        g, f = _ascii_local(given) or "patient", _ascii_local(family) or "mail"
        r = rng.random()
        if r < 0.35:
            local = f"{g}.{f}"
        elif r < 0.55:
            local = f"{g}{f}{rng.randint(1, 99)}"
        elif r < 0.7:
            local = f"{g[0]}{f}"
        elif r < 0.8:
            local = f"{g}_{f}"
        elif r < 0.9:
            local = f"{f}.{g}"
        else:
            local = f"{g}{born}"
        return f"{local}@{rng.choice(_EMAIL_DOMAINS)}"

    @staticmethod
    def _mbi(rng: random.Random) -> str:
        """A Medicare-Beneficiary-Identifier-shaped value (11 characters, no S L O I B Z)."""
        letters = "ACDEFGHJKMNPQRTUVWXY"
        alnum = letters + "0123456789"
        return "".join((
            str(rng.randint(1, 9)), rng.choice(letters), rng.choice(alnum),
            str(rng.randint(0, 9)), rng.choice(letters), rng.choice(alnum),
            str(rng.randint(0, 9)), rng.choice(letters), rng.choice(letters),
            str(rng.randint(0, 9)), str(rng.randint(0, 9)),
        ))

    def _contact(self, rng: random.Random, culture: str, family: str, age: int,
                 script: str) -> Contact:
        pools = self._pools[culture]
        if age < 18:
            relationship = "parent"
        else:
            relationship = self._relationships.pick(rng)
        female = rng.random() < 0.5
        given = (pools.female if female else pools.male).pick(rng)
        surname = family if relationship != "friend" and rng.random() < 0.75 else (
            pools.surnames.pick(rng))
        if culture == "russian" and script == "latin":
            given = transliterate_russian(given)
            if _is_cyrillic(surname):
                surname = transliterate_russian(surname)
        return Contact(name=f"{given} {surname}", relationship=relationship,
                       phone=self._phone(rng), is_emergency=True)

    def demo_patients(self) -> list[SyntheticPatient]:
        """The fixed demo people as patients (their dates never depend on ``today``)."""
        out = []
        for d in DEMO_PATIENTS:
            previous: tuple[PreviousName, ...] = ()
            if d.previous_family_name:
                previous = (PreviousName(d.given_name, d.previous_family_name,
                                         date(d.birth_date.year + 27, 6, 1)),)
            out.append(SyntheticPatient(
                given_name=d.given_name, middle_name=d.middle_name, family_name=d.family_name,
                preferred_name=d.preferred_name, birth_date=d.birth_date, sex=d.sex,
                gender_identity="", phone="", email="", address_line1="", address_line2="",
                city="", region="", postal_code="", country="", language=d.language,
                deceased_at=d.deceased_at, previous_names=previous, culture="demo",
            ))
        return out

    # ------------------------------------------------------------------ providers

    def providers(self, count: int) -> list[SyntheticProvider]:
        rng = _stream(self.seed, "providers")
        out = []
        for i in range(count):
            culture = self._cultures.pick(rng)
            pools = self._pools[culture]
            female = rng.random() < 0.5
            given = (pools.female if female else pools.male).pick(rng)
            family = pools.surnames.pick(rng)
            if female:
                family = feminine_surname(culture, family)
            if culture == "russian":
                given, family = transliterate_russian(given), transliterate_russian(family)
            # A clinic needs GPs: the first providers are family doctors and a paediatrician.
            specialty = ("Family medicine" if i in (0, 1, 3) else "Paediatrics" if i == 2
                         else self._specialties.pick(rng))
            out.append(SyntheticProvider(
                title="Dr.", given_name=given, family_name=family, specialty=specialty,
                license_number=f"MD{rng.randint(100000, 999999)}",
                hours=self._hours(rng),
            ))
        return out

    @staticmethod
    def _hours(rng: random.Random) -> tuple[WorkingHours, ...]:
        """Mon–Fri with a lunch break; some have a half day, some work three days."""
        start = rng.choice((time(8, 0), time(8, 30), time(9, 0)))
        lunch = rng.choice((time(12, 0), time(12, 30)))
        back = time(lunch.hour + 1, lunch.minute)
        end = rng.choice((time(16, 30), time(17, 0), time(17, 30), time(18, 0)))
        r = rng.random()
        days = [1, 2, 3, 4, 5]
        half_day = 0
        if r < 0.1:
            days = sorted(rng.sample(days, 3))
        elif r < 0.3:
            half_day = rng.choice(days)
        hours: list[WorkingHours] = []
        for d in days:
            hours.append(WorkingHours(d, start, lunch))
            if d != half_day:
                hours.append(WorkingHours(d, back, end))
        return tuple(hours)

    # --------------------------------------------------------------- appointments

    def appointments(self, providers: Sequence[tuple[int, SyntheticProvider]],
                     patients: PatientPool, types: Sequence[AppointmentType], *,
                     weeks: int, start: date | None = None) -> Iterator[SyntheticAppointment]:
        """Appointments from ``start`` (default today) for ``weeks`` weeks, inside each
        provider's working hours and never overlapping among one provider's live ones
        (a cancelled slot is sometimes booked again by someone else)."""
        if not types or not patients or weeks <= 0:
            return
        rng = _stream(self.seed, "appointments")
        first = start or self.today
        type_pool = _weighted([(str(i), _TYPE_WEIGHTS.get(t.name, 5.0))
                               for i, t in enumerate(types)])
        shortest = min(types, key=lambda t: t.minutes)
        for provider_id, provider in providers:
            reasons = _REASONS.get(provider.specialty, _REASONS[""])
            by_day: dict[int, list[WorkingHours]] = {}
            for h in provider.hours:
                by_day.setdefault(h.weekday, []).append(h)
            for offset in range(weeks * 7):
                day = first + timedelta(days=offset)
                occupancy = max(0.25, 0.92 - 0.025 * offset)
                for block in sorted(by_day.get(day.isoweekday(), ()),
                                    key=lambda h: h.starts_at):
                    t = datetime.combine(day, block.starts_at)
                    end = datetime.combine(day, block.ends_at)
                    while t + timedelta(minutes=shortest.minutes) <= end:
                        kind = types[int(type_pool.pick(rng))]
                        if t + timedelta(minutes=kind.minutes) > end:
                            kind = shortest
                        if rng.random() >= occupancy:
                            t += timedelta(minutes=15)
                            continue
                        stop = t + timedelta(minutes=kind.minutes)
                        patient = self._patient_for(rng, provider.specialty, patients)
                        cancelled = rng.random() < 0.05
                        yield SyntheticAppointment(
                            provider_id, patient, kind.id, t, stop,
                            _CANCELLED if cancelled else _BOOKED, rng.choice(reasons))
                        if cancelled and rng.random() < 0.5:
                            yield SyntheticAppointment(
                                provider_id, self._patient_for(rng, provider.specialty,
                                                               patients),
                                kind.id, t, stop, _BOOKED, rng.choice(reasons))
                        t = stop

    @staticmethod
    def _patient_for(rng: random.Random, specialty: str, pool: PatientPool) -> int:
        if specialty == "Paediatrics" and pool.children:
            ids = pool.children
        elif specialty == "Obstetrics and gynaecology" and pool.women:
            ids = pool.women
        elif specialty == "Family medicine" and pool.children and rng.random() < 0.2:
            ids = pool.children
        else:
            ids = pool.adults or pool.children
        return ids[rng.randrange(len(ids))]
