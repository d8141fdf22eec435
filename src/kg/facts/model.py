"""The fact-file schema: the entities of the registry and the facts of a source.

Every field that becomes a triple carries a `Pred` marker naming its predicate, and every
reference carries a `Ref` marker saying whether it points at an entity or a fact, so that the
converter and the reference check read the mapping from here instead of repeating it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from rdflib import URIRef
from rdflib.namespace import RDFS, SKOS

from kg.rdf.namespaces import ID_PATTERN, KGO, ORG, SCHEMA


@dataclass(frozen=True)
class Pred:
    """The predicate a field maps to; `start`/`end` take a date range's two ends."""

    iri: URIRef
    start: URIRef | None = None
    end: URIRef | None = None


@dataclass(frozen=True)
class Ref:
    """Marks a field whose values name something: a registry entity, a fact, a real-world
    event that several facts report, or a concept of the ontology's vocabularies."""

    target: Literal["entity", "fact", "event", "concept"]




def _id(value: Any) -> str:
    """Ids become IRIs: only ASCII letters, digits, '-' and '_', starting with a letter."""
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not an id: use up to 100 ASCII letters, digits, '-' and '_', "
        "starting with a letter (e.g. hakan-fidan)"
    )


Id = Annotated[str, BeforeValidator(_id)]
EntityRef = Annotated[Id, Ref("entity")]
FactRef = Annotated[Id, Ref("fact")]
def _language(value: Any) -> str:
    """A BCP 47 tag whose primary language is an ISO 639 code (en, nl, tr, en-GB...)."""
    primary = value.split("-")[0] if isinstance(value, str) else ""
    if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", str(value)) and (
        pycountry.languages.get(alpha_2=primary) or pycountry.languages.get(alpha_3=primary)
    ):
        return value
    raise ValueError(f"'{value}' is not a language tag such as en, nl, tr or en-GB")


Lang = Annotated[str, BeforeValidator(_language)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Modality = Literal["reported", "planned", "expected"]

MODALITY_IRIS = {
    "reported": KGO.Reported,
    "planned": KGO.Planned,
    "expected": KGO.Expected,
}

# ---------------------------------------------------------------------------------------------
# Dates at the precision a source gives them
# ---------------------------------------------------------------------------------------------

# ASCII digits only: `\d` takes any script's digits, which int() reads but ISO 8601 does not.
_DATE_RE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}))?)?)?$")
TIMES_OF_DAY = ("morning", "afternoon", "evening", "night", "late night")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A year, a month, a day or a day with a time of day, as ISO 8601 text."""

    text: str

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _DATE_RE.match(text)
        if not match:
            raise ValueError(
                f"'{text}' is not a date: write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM"
            )
        year, month, day, hour, minute = match.groups()
        try:
            if hour:
                datetime(int(year), int(month), int(day), int(hour), int(minute))
            elif day:
                date(int(year), int(month), int(day))
            elif month and not 1 <= int(month) <= 12:
                raise ValueError("month must be in 1..12")
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a real date ({exc})") from None
        return cls(text)

    @property
    def precision(self) -> str:
        """One of year, month, day, minute."""
        return {4: "year", 7: "month", 10: "day"}.get(len(self.text), "minute")


@dataclass(frozen=True)
class When:
    """A date or a date range, with how the source worded it when that was relative.

    Fields typed `Period` take either; fields typed `WhenField` take a single date.
    """

    start: PartialDate
    end: PartialDate | None = None
    as_given: str | None = None
    time_of_day: str | None = None

    @property
    def is_range(self) -> bool:
        return self.end is not None


def _parse_when(value: Any) -> When:
    if isinstance(value, When):
        return value
    extra: dict[str, str] = {}
    if isinstance(value, dict):
        unknown = set(value) - {"value", "as_given", "time_of_day"}
        if unknown or "value" not in value:
            raise ValueError(
                "a date mapping has the keys value (required), as_given and time_of_day"
            )
        extra = {k: value[k] for k in ("as_given", "time_of_day") if value.get(k) is not None}
        tod = extra.get("time_of_day")
        if tod is not None and tod not in TIMES_OF_DAY:
            raise ValueError(f"time_of_day '{tod}' is not one of {', '.join(TIMES_OF_DAY)}")
        value = value["value"]
    if not isinstance(value, str):
        raise ValueError("a date is written as text, e.g. '2025-07-08', '2025-07' or '2025'")
    first, sep, last = value.partition("/")
    start = PartialDate.parse(first.strip())
    end = PartialDate.parse(last.strip()) if sep else None
    if end is not None and end.text[: len(start.text)] < start.text[: len(end.text)]:
        raise ValueError(f"the range '{value}' ends before it starts")
    return When(start, end, **extra)


def _parse_day(value: Any) -> When:
    when = _parse_when(value)
    if when.is_range:
        raise ValueError("takes one date, not a range")
    return when


Period = Annotated[When, BeforeValidator(_parse_when)]
WhenField = Annotated[When, BeforeValidator(_parse_day)]

# ---------------------------------------------------------------------------------------------
# Entities of the registry
# ---------------------------------------------------------------------------------------------


class Record(BaseModel):
    """What every entity and fact shares: an id, a type and strict keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: Id
    note: Annotated[Text | None, Pred(RDFS.comment)] = None
    # Set by `kg draft` on what it drafted; the loader refuses a record still marked.
    draft: bool = False

    # Records with a `kind` map it to their class's local name here (kind -> class name).
    KINDS: ClassVar[dict[str, str]] = {}

    def rdf_class(self) -> URIRef:
        """The ontology class of the node this record becomes: its kind's, or its type's."""
        kind = getattr(self, "kind", None)
        return KGO[self.KINDS[kind] if kind in self.KINDS else type(self).__name__]


class Entity(Record):
    """A thing the sources talk about, with its names in several languages."""

    labels: dict[Lang, Name]
    aliases: dict[Lang, list[Name]] = Field(default_factory=dict)
    metonyms: list[Name] = Field(default_factory=list)
    wikidata: Annotated[str, StringConstraints(pattern=r"^Q[1-9][0-9]*$")] | None = None

    @field_validator("labels")
    @classmethod
    def _english_label(cls, labels: dict[str, str]) -> dict[str, str]:
        if "en" not in labels:
            raise ValueError("labels need at least an English ('en') label")
        return labels


def _country_code(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) and (
        pycountry.countries.get(alpha_3=value)
    ):
        return value
    raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-3 country code (such as TUR, PAK)")


class State(Entity):
    """A sovereign state, keyed by its ISO 3166-1 alpha-3 code."""

    type: Literal["State"]
    id: Annotated[str, BeforeValidator(_country_code)]
    capital: Annotated[EntityRef | None, Pred(KGO.capital)] = None


class Government(Entity):
    """The government of a state, often named after its capital."""

    type: Literal["Government"]
    of: Annotated[EntityRef, Pred(KGO.governmentOf)]


class Person(Entity):
    """A person, such as an official."""

    type: Literal["Person"]
    nationality: Annotated[EntityRef | None, Pred(KGO.nationality)] = None


ORGANISATION_KINDS = {
    "ministry": "Ministry",
    "armed_forces": "ArmedForces",
    "executive_office": "ExecutiveOffice",
    "state_company": "StateCompany",
    "company": "Company",
    "bilateral_council": "BilateralCouncil",
    "multilateral_organisation": "MultilateralOrganisation",
    "organisation_body": "OrganisationBody",
    "militant_organisation": "MilitantOrganisation",
    "group": "PartyGroup",
}


class Organisation(Entity):
    """An organisation; `kind` picks its class (a ministry, a council, a group of parties...)."""

    type: Literal["Organisation"]
    kind: Literal[tuple(ORGANISATION_KINDS)]  # type: ignore[valid-type]
    state: Annotated[EntityRef | None, Pred(KGO.state)] = None
    part_of: Annotated[EntityRef | None, Pred(ORG.subOrganizationOf)] = None
    based_in: Annotated[EntityRef | None, Pred(KGO.basedIn)] = None
    member_count: Annotated[StrictInt | None, Field(ge=1), Pred(KGO.memberCount)] = None
    between: Annotated[list[EntityRef], Pred(KGO.councilOf)] = Field(default_factory=list)

    KINDS: ClassVar[dict[str, str]] = ORGANISATION_KINDS


class Post(Entity):
    """A position in an organisation that one person holds at a time."""

    type: Literal["Post"]
    post_in: Annotated[EntityRef, Pred(ORG.postIn)]
    state: Annotated[EntityRef | None, Pred(KGO.state)] = None


class Place(Entity):
    """A city or region."""

    type: Literal["Place"]
    kind: Literal["city", "region"] = "city"
    country: Annotated[EntityRef | None, Pred(KGO.country)] = None

    KINDS: ClassVar[dict[str, str]] = {"city": "City", "region": "Region"}


class Topic(Entity):
    """A subject of talks, a sector of cooperation, a question states take positions on."""

    type: Literal["Topic"]
    broader: Annotated[EntityRef | None, Pred(SKOS.broader)] = None


class Names(Record):
    """More names for an entity another file (or the registry of states) declares: labels in
    languages it has none in, aliases, metonyms; and, where the registry has none, its
    Wikidata item or (for a state) its capital."""

    id: Annotated[Id, Ref("entity")]
    labels: dict[Lang, Name] = Field(default_factory=dict)
    aliases: dict[Lang, list[Name]] = Field(default_factory=dict)
    metonyms: list[Name] = Field(default_factory=list)
    wikidata: Annotated[str, StringConstraints(pattern=r"^Q[1-9][0-9]*$")] | None = None
    capital: Annotated[EntityRef | None, Pred(KGO.capital)] = None

    @model_validator(mode="after")
    def _adds_something(self) -> Names:
        if not (self.labels or self.aliases or self.metonyms or self.wikidata or self.capital):
            raise ValueError("a names entry adds labels, aliases, metonyms, wikidata or capital")
        return self


AnyEntity = Annotated[
    State | Government | Person | Organisation | Post | Place | Topic,
    Field(discriminator="type"),
]

# ---------------------------------------------------------------------------------------------
# Facts of a source
# ---------------------------------------------------------------------------------------------


def _cameo_code(value: Any) -> str | None:
    """A code of the CAMEO scheme: two to four digits, its root (the first two) 01 to 20."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{2,4}", value) and (
            1 <= int(value[:2]) <= 20):
        return value
    raise ValueError(f"'{value}' is not a CAMEO code: two to four digits, quoted, whose first "
                     "two (the root) are 01 to 20, such as '042' or '1011'")


class Fact(Record):
    """One thing a source reports, with where it says so and how sure it is."""

    para: list[Annotated[StrictInt, Field(ge=1)]]
    modality: Modality
    attribution: Annotated[Text | None, Pred(KGO.attribution)] = None
    attributed_to: Annotated[EntityRef | None, Pred(KGO.attributedTo)] = None
    event: Annotated[Id | None, Ref("event"), Pred(KGO.occurrence)] = None
    cameo: Annotated[str | None, BeforeValidator(_cameo_code)] = None
    after: Annotated[list[FactRef], Pred(KGO.follows)] = Field(default_factory=list)
    before: Annotated[list[FactRef], Pred(KGO.precedes)] = Field(default_factory=list)

    @field_validator("para", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("after", "before", mode="before")
    @classmethod
    def _one_or_more_facts(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


DATE = Pred(KGO.date, SCHEMA.startDate, SCHEMA.endDate)


class PostHolding(Fact):
    """A person holding a post (optionally with a rank), over a tenure or as of a date.

    Only a holding the source presents as current (`current: true`), with no end, makes the
    person the post's current holder (org:holds); one known as of a date, or from a start,
    is not taken to hold beyond what the source says."""

    type: Literal["PostHolding"]
    person: Annotated[EntityRef, Pred(ORG.member)]
    post: Annotated[EntityRef, Pred(KGO.post)]
    rank: Annotated[Text | None, Pred(KGO.rank)] = None
    start: WhenField | None = None
    end: WhenField | None = None
    as_of: Annotated[WhenField | None, Pred(KGO.asOf)] = None
    current: Annotated[bool | None, Pred(KGO.isCurrent)] = None


class Visit(Fact):
    """A visit of an official (or a delegation) to a host state."""

    type: Literal["Visit"]
    visitor: Annotated[EntityRef, Pred(KGO.visitor)]
    host: Annotated[EntityRef, Pred(KGO.hostState)]
    places: Annotated[list[EntityRef], Pred(KGO.place)] = Field(default_factory=list)
    date: Annotated[Period | None, DATE] = None
    arrival: Annotated[WhenField | None, Pred(KGO.arrivalDate)] = None
    departure: Annotated[WhenField | None, Pred(KGO.departureDate)] = None
    received_by: Annotated[list[EntityRef], Pred(KGO.receivedBy)] = Field(default_factory=list)
    official: Annotated[bool | None, Pred(KGO.isOfficial)] = None
    first_official: Annotated[bool | None, Pred(KGO.isFirstOfficialVisit)] = None
    purposes: Annotated[list[EntityRef], Pred(KGO.purpose)] = Field(default_factory=list)
    duration: Annotated[Text | None, Pred(KGO.duration)] = None
    parallel_to: Annotated[list[FactRef], Pred(KGO.parallelTo)] = Field(default_factory=list)
    part_of: Annotated[FactRef | None, Pred(KGO.partOfEvent)] = None


class Meeting(Fact):
    """Talks between participants, possibly during a visit or on the sidelines of an event."""

    type: Literal["Meeting"]
    participants: Annotated[list[EntityRef], Field(min_length=1), Pred(KGO.participant)]
    place: Annotated[EntityRef | None, Pred(KGO.place)] = None
    venue: Annotated[Text | None, Pred(KGO.venue)] = None
    duration: Annotated[Text | None, Pred(KGO.duration)] = None
    date: Annotated[Period | None, DATE] = None
    topics: Annotated[list[EntityRef], Pred(KGO.topic)] = Field(default_factory=list)
    during: Annotated[FactRef | None, Pred(KGO.heldDuring)] = None
    sidelines_of: Annotated[FactRef | None, Pred(KGO.onSidelinesOf)] = None
    outcome: Annotated[Text | None, Pred(KGO.outcome)] = None


class CouncilSession(Fact):
    """A session of a council or of an organisation's body, held or planned."""

    type: Literal["CouncilSession"]
    council: Annotated[EntityRef, Pred(KGO.sessionOf)]
    ordinal: Annotated[StrictInt | None, Field(ge=1), Pred(KGO.ordinal)] = None
    form: Annotated[Text | None, Pred(KGO.sessionForm)] = None
    place: Annotated[EntityRef | None, Pred(KGO.place)] = None
    venue: Annotated[Text | None, Pred(KGO.venue)] = None
    host: Annotated[EntityRef | None, Pred(KGO.hostState)] = None
    date: Annotated[Period | None, DATE] = None
    topics: Annotated[list[EntityRef], Pred(KGO.topic)] = Field(default_factory=list)


class Summit(Fact):
    """A summit of an organisation."""

    type: Literal["Summit"]
    organisation: Annotated[EntityRef, Pred(KGO.summitOf)]
    place: Annotated[EntityRef | None, Pred(KGO.place)] = None
    date: Annotated[Period | None, DATE] = None


class Agreement(Fact):
    """An agreement between parties; its signing becomes an event of its own."""

    type: Literal["Agreement"]
    name: Annotated[dict[Lang, Name] | None, Pred(KGO.agreementName)] = None
    description: Annotated[Text | None, Pred(KGO.agreementDescription)] = None
    parties: Annotated[list[EntityRef], Field(min_length=1), Pred(KGO.party)]
    signatories: list[EntityRef] = Field(default_factory=list)
    date: Annotated[WhenField | None, Pred(KGO.signingDate)] = None
    announced: Annotated[WhenField | None, Pred(KGO.announcedDate)] = None
    place: Annotated[EntityRef | None, Pred(KGO.signingPlace)] = None
    venue: Annotated[Text | None, Pred(KGO.venue)] = None
    during: Annotated[FactRef | None, Pred(KGO.signedDuring)] = None
    amends: Annotated[list[FactRef], Pred(KGO.amends)] = Field(default_factory=list)
    supplements: Annotated[list[FactRef], Pred(KGO.supplements)] = Field(default_factory=list)
    sectors: Annotated[list[EntityRef], Pred(KGO.sector)] = Field(default_factory=list)
    purposes: Annotated[list[EntityRef], Pred(KGO.purpose)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _named_or_described(self) -> Agreement:
        if not (self.name or self.description):
            raise ValueError("an agreement needs a name or, when the source gives none, a "
                             "description (in your own words)")
        return self


class Casualties(BaseModel):
    """How many of whom an action killed or wounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    count: Annotated[StrictInt, Field(ge=0)]
    group: Text
    harm: Literal["killed", "wounded"] = "killed"


MILITARY_ACTION_KINDS = {"airstrike": "Airstrike", "ground_attack": "GroundAttack"}


class MilitaryAction(Fact):
    """A use of force by one state against another."""

    type: Literal["MilitaryAction"]
    kind: Literal[tuple(MILITARY_ACTION_KINDS)]  # type: ignore[valid-type]
    actor: Annotated[EntityRef, Pred(KGO.actor)]
    target: Annotated[EntityRef, Pred(KGO.targetState)]
    date: Annotated[Period | None, DATE] = None
    cross_border: Annotated[bool | None, Pred(KGO.isCrossBorder)] = None
    casualties: list[Casualties] = Field(default_factory=list)
    part_of: Annotated[FactRef | None, Pred(KGO.partOfEvent)] = None

    KINDS: ClassVar[dict[str, str]] = MILITARY_ACTION_KINDS


class ArmedConflict(Fact):
    """A war or armed conflict between states."""

    type: Literal["ArmedConflict"]
    parties: Annotated[list[EntityRef], Field(min_length=2), Pred(KGO.belligerent)]
    date: Annotated[Period | None, DATE] = None
    duration_days: Annotated[StrictInt | None, Field(ge=1), Pred(KGO.durationDays)] = None


STATEMENT_KINDS = {
    "condemnation": "Condemnation",
    "support": "Support",
    "shared_position": "SharedPosition",
    "threat_perception": "ThreatPerception",
    "commitment": "Commitment",
}


class Statement(Fact):
    """A stance: a condemnation, support, a shared position, a threat perception, a pledge."""

    type: Literal["Statement"]
    kind: Literal[tuple(STATEMENT_KINDS)]  # type: ignore[valid-type]
    by: Annotated[list[EntityRef], Field(min_length=1), Pred(KGO.statedBy)]
    toward: Annotated[EntityRef | None, Pred(KGO.toward)] = None
    about: Annotated[list[FactRef], Pred(KGO.aboutEvent)] = Field(default_factory=list)
    against: Annotated[list[EntityRef], Pred(KGO.against)] = Field(default_factory=list)
    topics: Annotated[list[EntityRef], Pred(KGO.topic)] = Field(default_factory=list)
    threat: Annotated[list[EntityRef], Pred(KGO.threat)] = Field(default_factory=list)
    threatened: Annotated[list[EntityRef], Pred(KGO.threatened)] = Field(default_factory=list)
    manner: Annotated[Text | None, Pred(KGO.manner)] = None
    date: Annotated[Period | None, DATE] = None
    first: Annotated[bool | None, Pred(KGO.isFirst)] = None
    repeated: Annotated[bool | None, Pred(KGO.isRepeated)] = None

    KINDS: ClassVar[dict[str, str]] = STATEMENT_KINDS


SANCTION_KINDS = {"boycott": "Boycott", "ban": "OperatingBan"}


class Sanction(Fact):
    """A boycott or a ban that one party imposes on another."""

    type: Literal["Sanction"]
    kind: Literal[tuple(SANCTION_KINDS)]  # type: ignore[valid-type]
    by: Annotated[EntityRef, Pred(KGO.imposedBy)]
    target: Annotated[EntityRef, Pred(KGO.sanctionTarget)]
    object: Annotated[Text | None, Pred(KGO.sanctionObject)] = None
    reasons: Annotated[list[EntityRef], Pred(KGO.reason)] = Field(default_factory=list)
    cause: Annotated[FactRef | None, Pred(KGO.causedBy)] = None
    date: Annotated[Period | None, DATE] = None

    KINDS: ClassVar[dict[str, str]] = SANCTION_KINDS


class Founding(Fact):
    """The founding of an organisation, with the name it had then."""

    type: Literal["Founding"]
    organisation: Annotated[EntityRef, Pred(KGO.founded)]
    name_at_founding: Annotated[dict[Lang, Name], Pred(KGO.nameAtFounding)]
    date: Annotated[Period | None, DATE] = None


class Upgrade(Fact):
    """An organisation raised to a new status under a new name."""

    type: Literal["Upgrade"]
    organisation: Annotated[EntityRef, Pred(KGO.upgraded)]
    former_name: Annotated[dict[Lang, Name], Pred(KGO.formerName)]
    new_name: Annotated[dict[Lang, Name], Pred(KGO.newName)]
    date: Annotated[Period | None, DATE] = None


class Initiative(Fact):
    """A cooperation initiative between parties in some sectors."""

    type: Literal["Initiative"]
    parties: Annotated[list[EntityRef], Field(min_length=1), Pred(KGO.party)]
    sectors: Annotated[list[EntityRef], Pred(KGO.sector)] = Field(default_factory=list)
    date: Annotated[Period | None, DATE] = None


class Relation(Fact):
    """How two or more parties stand to each other: its character and its fields."""

    type: Literal["Relation"]
    parties: Annotated[list[EntityRef], Field(min_length=2), Pred(KGO.party)]
    character: Annotated[list[Text], Pred(KGO.character)] = Field(default_factory=list)
    fields: Annotated[list[EntityRef], Pred(KGO.sector)] = Field(default_factory=list)
    via: Annotated[EntityRef | None, Pred(KGO.institutionalisedThrough)] = None
    cause: Annotated[FactRef | None, Pred(KGO.causedBy)] = None
    date: Annotated[Period | None, DATE] = None


class Designation(Fact):
    """A state designating organisations as terrorist (or otherwise)."""

    type: Literal["Designation"]
    by: Annotated[EntityRef, Pred(KGO.designatedBy)]
    organisations: Annotated[list[EntityRef], Field(min_length=1), Pred(KGO.designates)]
    designation: Annotated[Text, Pred(KGO.designationAs)] = "terrorist organisation"


MEASURES = (
    "trade_volume",
    "exports",
    "imports",
    "investment",
    "contracts_value",
    "contracts_count",
    "arms_exports",
    "arms_supply_share",
    "arms_supplier_rank",
)
UNITS = ("percent", "count", "rank")
BOUNDS = ("more_than", "at_least", "up_to", "less_than")


def _unit(value: Any) -> str:
    if isinstance(value, str) and (
        value in UNITS or (re.fullmatch(r"[A-Z]{3}", value) and pycountry.currencies.get(
            alpha_3=value))
    ):
        return value
    raise ValueError(
        f"'{value}' is not an ISO 4217 currency code (such as USD, EUR) nor one of "
        + ", ".join(UNITS)
    )


Unit = Annotated[str, BeforeValidator(_unit)]
AMOUNT_DIGITS = (19, 18)  # what an xsd:decimal holds in Oxigraph: before and after the point


def _bounded_amount(value: Decimal) -> Decimal:
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # Field(ge=0) and pydantic refuse NaN and infinities
    before, after = max(len(digits) + exponent, 0), max(-exponent, 0)
    if before > AMOUNT_DIGITS[0] or after > AMOUNT_DIGITS[1]:
        raise ValueError(f"an amount of {before:,} digits before the point and {after:,} after "
                         f"is over the limit of {AMOUNT_DIGITS[0]} and {AMOUNT_DIGITS[1]}")
    return value


class Figure(Fact):
    """A number a source gives: an amount in a currency or unit, for a period and two states."""

    type: Literal["Figure"]
    measure: Annotated[Literal[MEASURES], Ref("concept"), Pred(KGO.measure)]  # type: ignore[valid-type]
    amount: Annotated[Decimal, Field(ge=0), AfterValidator(_bounded_amount), Pred(KGO.amount)]
    unit: Annotated[Unit, Pred(KGO.unit)]
    state: Annotated[EntityRef, Pred(KGO.refState)]
    counterpart: Annotated[EntityRef, Pred(KGO.counterpartState)]
    period: Annotated[
        Period | None, Pred(KGO.refPeriod, KGO.refPeriodStart, KGO.refPeriodEnd)
    ] = None
    approximate: Annotated[bool, Pred(KGO.isApproximate)] = False
    bound: Annotated[Literal[BOUNDS] | None, Ref("concept"), Pred(KGO.bound)] = None  # type: ignore[valid-type]
    items: Annotated[Text | None, Pred(KGO.countedItems)] = None
    values: Annotated[FactRef | None, Pred(KGO.valueOf)] = None
    seller: Annotated[EntityRef | None, Pred(KGO.seller)] = None
    buyer: Annotated[EntityRef | None, Pred(KGO.buyer)] = None

    @model_validator(mode="after")
    def _share_is_a_percentage(self) -> Figure:
        if self.unit == "percent" and self.amount > 100:
            raise ValueError(f"a share of {self.amount} percent is over 100")
        return self


class CodedEvent(Fact):
    """Any act the other types do not hold (a demand, a joint statement, a rally, an attack by
    a non-state actor, a relation's upgrade...), classified by its CAMEO code."""

    type: Literal["Event"]
    cameo: Annotated[str, BeforeValidator(_cameo_code)]
    what: Annotated[Text, Pred(KGO.eventDescription)]
    actors: Annotated[list[EntityRef], Field(min_length=1), Pred(KGO.eventActor)]
    targets: Annotated[list[EntityRef], Pred(KGO.eventTarget)] = Field(default_factory=list)
    topics: Annotated[list[EntityRef], Pred(KGO.topic)] = Field(default_factory=list)
    about: Annotated[list[FactRef], Pred(KGO.aboutEvent)] = Field(default_factory=list)
    date: Annotated[Period | None, DATE] = None
    place: Annotated[EntityRef | None, Pred(KGO.eventPlace)] = None
    venue: Annotated[Text | None, Pred(KGO.venue)] = None
    duration: Annotated[Text | None, Pred(KGO.duration)] = None
    manner: Annotated[Text | None, Pred(KGO.manner)] = None
    during: Annotated[FactRef | None, Pred(KGO.heldDuring)] = None

    def rdf_class(self) -> URIRef:
        return KGO.CodedEvent


AnyFact = Annotated[
    CodedEvent
    | PostHolding
    | Visit
    | Meeting
    | CouncilSession
    | Summit
    | Agreement
    | MilitaryAction
    | ArmedConflict
    | Statement
    | Sanction
    | Founding
    | Upgrade
    | Initiative
    | Relation
    | Designation
    | Figure,
    Field(discriminator="type"),
]


class Source(BaseModel):
    """The document a fact file encodes; its id is the source file's name without extension."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
    file: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    title: Text
    language: Lang
    kind: Literal["NewsArticle", "Report", "Article"] = "NewsArticle"
    date: WhenField | None = None
    written_before: WhenField | None = None
    publisher: Text | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class FactFile(BaseModel):
    """One YAML file: registry entities, names for entities declared elsewhere, or a source
    with its facts, or all of these."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    entities: list[AnyEntity] = Field(default_factory=list)
    names: list[Names] = Field(default_factory=list)
    source: Source | None = None
    facts: list[AnyFact] = Field(default_factory=list)

    FIELDS: ClassVar[tuple[str, ...]] = ("entities", "names", "source", "facts")

    @model_validator(mode="after")
    def _facts_need_a_source(self) -> FactFile:
        if self.facts and self.source is None:
            raise ValueError("a file with facts needs a 'source' section")
        if not (self.facts or self.entities or self.names or self.source):
            raise ValueError("the file holds no entities, names, source or facts")
        return self
