"""A generated, entirely fictional SIF inspection, written into a ledger through its Python API.

Four weeks of a simulated clock: preparation, fieldwork with 30 tracked cases, hypotheses tested against the
evidence, grades proposed and revised, verbal feedback, a recorded bias review, a consistency panel, moderation,
finalising and publication. Everything — text, ids, times — follows from the seed, so the same seed always
writes the same ledger (and the same chain head). The text is typical of SIF evidence but invented: no real
authority, person or child.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from ledger import bias_review, codebook, coding, feedback, hypothesis, judgment, panel, source
from ledger.application import Ledger
from ledger.events import Role
from ledger.inspection import Stage, add_member, enter_stage, load, open_inspection

if TYPE_CHECKING:
    from ledger.contracts import Codebook, Framework

REFERENCE = "northmoor-2017"
AUTHORITY = "Northmoor Borough Council (fictional)"
START = date(2017, 1, 9)
LEAD = "amara.okafor"
TEAM = {
    LEAD: ("Amara Okafor", Role.LEAD), "ben.hughes": ("Ben Hughes", Role.INSPECTOR),
    "chloe.martin": ("Chloe Martin", Role.INSPECTOR), "dev.patel": ("Dev Patel", Role.INSPECTOR),
    "erin.walsh": ("Erin Walsh", Role.INSPECTOR), "femi.adeyemi": ("Femi Adeyemi", Role.INSPECTOR),
    "grace.lin": ("Grace Lin", Role.INSPECTOR), "ruth.evans": ("Ruth Evans", Role.PANEL),
    "sunil.shah": ("Sunil Shah", Role.PANEL), "helen.moore": ("Helen Moore", Role.MODERATOR),
}
INSPECTORS = [p for p, (_, r) in TEAM.items() if r in (Role.LEAD, Role.INSPECTOR)]

# theme -> (strength sentences, weakness sentences); {n} is filled with a number, {who} with a professional.
S, W = 0, 1
BANK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "help-protection/contacts-and-referrals": (
        ("Contacts at the front door were screened within {n} hours and the threshold decision was clearly recorded.",
         "The MASH shared information with police and health on the same day, so risk was understood quickly."),
        ("The referral waited {n} working days in the front door queue before a manager reviewed it.",
         "Checks were made with partner agencies without consent and without a recorded reason.")),
    "help-protection/assessment": (
        ("The assessment was completed in {n} working days and analysed the impact of parental drug use on the child.",
         "The assessment drew on the views of the {who} and set out risks and strengths clearly."),
        ("The assessment described events but did not analyse what they meant for the child's safety.",
         "The assessment took {n} working days and was not updated when a new partner joined the household.")),
    "help-protection/strategy-and-s47": (
        ("A strategy discussion with police and health was held on the day of the referral and agreed clear actions.",),
        ("The {who} was not invited to the strategy discussion, so information about earlier injuries was missed.",)),
    "help-protection/cp-conferences-and-plans": (
        ("The child protection plan set out specific actions with named people and timescales.",),
        ("The child protection plan had been in place for {n} months without clear progress, and actions were "
         "repeated at each conference.",
         "Outcomes in the plan were vague, such as 'parents to engage with services', so the family could not know "
         "what had to change.")),
    "help-protection/core-groups": (
        ("Core groups met every {n} weeks and partners reported progress against each action.",),
        ("Two core group meetings were cancelled and the {who} was not told.",)),
    "help-protection/child-seen-wishes-feelings": (
        ("The social worker saw the child alone on each visit and recorded the child's own words about home.",),
        ("The child had not been seen alone for {n} weeks and their wishes and feelings were not recorded.",)),
    "help-protection/neglect": (
        ("The social worker used a graded care profile to show the parents what had to improve at home.",),
        ("Chronic neglect was not recognised: home conditions described on {n} visits were accepted without "
         "escalation.",
         "Drift over {n} months left the child living with neglect without a decision to start pre-proceedings.")),
    "help-protection/domestic-abuse": (
        ("Information from the MARAC was used well to plan for the safety of the mother and the children.",),
        ("{n} police notifications of domestic abuse were closed with no assessment of the children's experience.",)),
    "help-protection/early-help": (
        ("The early help worker stepped the family down with a clear plan and the {who} continued the support.",),
        ("The family had been referred to early help {n} times without any change in the help offered.",)),
    "help-protection/missing-from-home": (
        ("A return home interview was completed within 72 hours and shared with the exploitation team.",),
        ("Return home interviews were offered after only {n} of the child's missing episodes.",)),
    "looked-after/placement-stability": (
        ("The young person has lived with the same foster carers for {n} years and describes them as family.",
         "Careful matching and support to the carers have kept the placement stable through a difficult year."),
        ("The child has had {n} placements in twelve months, and the last move was unplanned.",)),
    "looked-after/permanence-planning": (
        ("Permanence was considered at the second review and long-term fostering was agreed without delay.",),
        ("There is no permanence plan after {n} months in care.",)),
    "looked-after/health-assessments": (
        ("Health assessments were on time and the dental check was up to date.",),
        ("The review health assessment was {n} months overdue.",)),
    "looked-after/emotional-health": (
        ("The child has weekly therapeutic support, arranged quickly through the dedicated CAMHS service.",),
        ("A high strengths and difficulties score did not lead to any referral for emotional support.",)),
    "looked-after/virtual-school": (
        ("The personal education plan has clear targets agreed with the designated teacher and the virtual school.",),
        ("The personal education plan had not been updated for {n} terms.",)),
    "looked-after/family-contact": (
        ("Brothers and sisters placed apart see each other every {n} weeks, as they asked.",),
        ("Contact with the child's grandmother stopped with no record of the child's view.",)),
    "looked-after/independent-reviewing-officers": (
        ("The independent reviewing officer met the child before each review and challenged delay formally.",),
        ("The independent reviewing officer did not challenge the lack of progress over {n} reviews.",)),
    "looked-after/life-story-identity": (
        ("Life story work has helped the child understand why they came into care.",),
        ("No life story work had started after {n} years in care.",)),
    "care-leavers/personal-advisers-pathway-plans": (
        ("The personal adviser keeps in touch weekly and the pathway plan reflects the young person's own goals.",),
        ("The pathway plan repeated the previous one and had not been reviewed for {n} months.",)),
    "care-leavers/accommodation-staying-put": (
        ("The young person chose to stay put with their former foster carers and is settled.",),
        ("The care leaver has moved between {n} bed and breakfast placements in the last year.",
         "The young person was placed in a hostel far from their support network with no plan to move on.")),
    "care-leavers/education-employment-training": (
        ("The care leaver has started an apprenticeship with the council, supported by the personal adviser.",),
        ("The young person has not been in education, employment or training for {n} months and has no plan.",)),
    "adoption/timeliness": (
        ("The child was placed with adopters {n} days after entering care, well within the national threshold.",),
        ("Family finding did not begin until {n} months after the placement order.",)),
    "adoption/adopter-recruitment": (
        ("Adopters described their assessment as thorough, timely and respectful.",),
        ("Too few adopters are available for older children and for brothers and sisters together.",)),
    "adoption/adoption-support": (
        ("Adoption support was assessed quickly and therapy was funded through the support fund.",),
        ("The family waited {n} months for an assessment of their adoption support needs.",)),
    "leadership/management-oversight-supervision": (
        ("Supervision records show reflective discussion of risk and clear actions with timescales.",),
        ("Management oversight was not evident on the file for {n} months; supervision recorded tasks, not analysis.",
         "The manager's decision to close the case was not explained on the file.")),
    "leadership/performance-management": (
        ("Senior managers use a weekly performance report to track the timeliness of visits and assessments.",),
        ("Performance information shows how quickly work is done but not how well.",)),
    "leadership/quality-assurance-audit": (
        ("Case audits are moderated and their learning is shared with teams.",),
        ("Audits graded {n} cases as good that inspectors found required improvement.",)),
    "leadership/workforce": (
        ("Social workers said caseloads of around {n} children let them know children well.",),
        ("Agency staff make up {n} per cent of the assessment teams, so children have had several social workers.",)),
    "leadership/corporate-parenting": (
        ("Members of the corporate parenting board know the needs of children in care well.",),
        ("The corporate parenting board receives no regular reports about care leavers.",)),
    "leadership/self-evaluation": (
        ("The self-assessment is candid about weaknesses at the front door.",),
        ("The self-assessment overstates the quality of child protection plans.",)),
    "lscb/multi-agency-audit": (
        ("Multi-agency audits of neglect led the board to revise its neglect strategy.",),
        ("The board's audit programme has not looked at the quality of child protection plans.",)),
    "lscb/challenge": (
        ("The independent chair has challenged health partners about attendance at conferences.",),
        ("The board has not challenged the council about the rising number of repeat child protection plans.",)),
}
#: How likely a coded passage in each area is a strength (the area's "true" quality in this story).
QUALITY = {"help-protection": 0.4, "looked-after": 0.7, "adoption": 0.8, "care-leavers": 0.4, "leadership": 0.4,
           "lscb": 0.5}
CASE_THEMES = {
    "help": [t for t in BANK if t.startswith("help-protection/")] + ["leadership/management-oversight-supervision"],
    "care": [t for t in BANK if t.startswith("looked-after/")] + ["leadership/management-oversight-supervision"],
    "leaver": [t for t in BANK if t.startswith("care-leavers/")] + ["looked-after/placement-stability"],
    "adoption": [t for t in BANK if t.startswith("adoption/")] + ["looked-after/permanence-planning"],
}
WHO = ("school", "health visitor", "GP", "police", "school nurse", "family support worker")
FILLER = (
    "The inspector read the chronology, the latest assessment and the current plan.",
    "Details that could identify the family are not recorded here.",
    "The case was discussed with the allocated social worker and the team manager.",
    "The record was read on the electronic case management system.",
)


class DemoClock:
    """Simulated time: set to a working moment, then a few seconds pass with each event."""

    def __init__(self) -> None:
        self.moment = datetime(START.year, START.month, START.day, 8, 30, tzinfo=UTC)

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        """Move to working day ``day`` (1 = the first Monday) at hh:mm, never backwards."""
        weeks, weekday = divmod(day - 1, 5)
        when = datetime.combine(START + timedelta(weeks=weeks, days=weekday), datetime.min.time(), UTC)
        self.moment = max(self.moment, when.replace(hour=hour, minute=minute))

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=7)
        return self.moment


class Coded(msgspec.Struct, kw_only=True):
    """A coding the generator made, kept in memory so the story never needs the projections."""

    id: uuid.UUID
    code: str
    valence: str
    source: uuid.UUID
    coder: str
    case: str | None
    kind: str
    day: int


class Demo:
    """Writes the story; each method is one stretch of the inspection."""

    def __init__(self, ledger: Ledger, clock: DemoClock, framework: Framework, book: Codebook, seed: int) -> None:
        self.ledger, self.clock, self.framework, self.book = ledger, clock, framework, book
        self.rng = random.Random(seed)
        self.coded: list[Coded] = []
        self.cases: list[tuple[str, str, str]] = []  # (case id, kind of case, inspector)
        self.hypotheses: dict[str, uuid.UUID] = {}
        self.sources: dict[str, int] = {}

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    @property
    def inspection(self) -> Any:
        return load(self.ledger, REFERENCE)

    # --- text --------------------------------------------------------------------------------

    def sentence(self, theme: str, valence: str, used: set[str]) -> tuple[str, str, str] | None:
        """A new sentence on ``theme`` showing ``valence`` (the other one if none is left): (text, theme, valence)."""
        for chosen in (valence, "weakness" if valence == "strength" else "strength"):
            options = [t for t in BANK[theme][S if chosen == "strength" else W] if t not in used]
            if options:
                template = self.rng.choice(options)
                used.add(template)
                return template.format(n=self.rng.randint(2, 9), who=self.rng.choice(WHO)), theme, chosen
        return None

    def passages(self, themes: list[str], count: int) -> list[tuple[str, str, str]]:
        """``count`` passages on different themes, strengths as likely as each area's quality makes them."""
        used: set[str] = set()
        picked = [
            self.sentence(t, "strength" if self.rng.random() < QUALITY[t.split("/")[0]] else "weakness", used)
            for t in self.rng.sample(themes, min(count, len(themes)))
        ]
        return [p for p in picked if p is not None]

    # --- registering and coding --------------------------------------------------------------

    def record(self, who: str, day: int, title: str, kind: source.Kind, passages: list[tuple[str, str, str]],
               case: str | None = None, lead_in: str = "") -> None:
        """Register a source made of ``passages`` (and some filler), and code every passage in it."""
        filler = self.rng.sample(FILLER, 2)
        text = " ".join([lead_in, filler[0], *(p[0] for p in passages), filler[1]]).strip()
        inspection = self.inspection
        ids, _ = source.register(self.ledger, who, inspection, [source.NewSource(
            title=title, text=text, kind=kind, case=case, collected_at=self.clock.moment,
        )])
        self.sources[str(kind)] = self.sources.get(str(kind), 0) + 1
        held = self.ledger.get(source.Source, ids[0])
        book = codebook.load(self.ledger, inspection)
        events = []
        for sentence, theme, valence in passages:
            band = self.band(theme, valence)
            made = coding.prepare(self.ledger, who, inspection, held, book, coding.CodingRequest(
                code=theme, valence=valence, quote=sentence, band=band,
            ))
            made = msgspec.structs.replace(made, originator_id=self.new_id())
            events.append(made)
            self.coded.append(Coded(id=made.originator_id, code=theme, valence=valence, source=held.id,
                                    coder=who, case=case, kind=str(kind), day=day))
        self.ledger.append(*events)

    def band(self, theme: str, valence: str) -> str | None:
        if self.rng.random() < 0.25:
            return None
        if valence == "strength":
            return "outstanding" if theme.startswith("adoption/") and self.rng.random() < 0.5 else "good"
        serious = theme in ("help-protection/neglect", "care-leavers/accommodation-staying-put")
        return "inadequate" if serious and self.rng.random() < 0.4 else "requires-improvement"

    # --- the story ---------------------------------------------------------------------------

    def prepare(self) -> None:
        self.clock.at(1, 8, 30)
        open_inspection(self.ledger, LEAD, REFERENCE, authority=AUTHORITY, framework=self.framework.name,
                        starts=START, ends=START + timedelta(weeks=4))
        for person, (name, role) in TEAM.items():
            if person != LEAD:
                add_member(self.ledger, LEAD, REFERENCE, person, role, name)
        codebook.adopt(self.ledger, LEAD, self.inspection, self.book)
        self.clock.at(1, 10)
        data = [(t, v) for t in BANK for v in ("strength", "weakness") if t.startswith(("leadership/", "help-"))]
        for number, area in enumerate(("front door and assessment", "workforce and quality assurance"), 1):
            picked = self.rng.sample(data, 4)
            self.record(LEAD, 1, f"Performance data {number}: {area}", source.Kind.PERFORMANCE_DATA,
                        self._distinct(picked),
                        lead_in=f"Authority performance data on {area}, twelve months to December 2016.")
        self.record(LEAD, 1, "Self-assessment of children's services", source.Kind.SELF_ASSESSMENT,
                    self.passages([t for t in BANK if t.startswith("leadership/")], 4))
        kinds = ["help"] * 12 + ["care"] * 10 + ["leaver"] * 4 + ["adoption"] * 4
        inspectors = INSPECTORS[1:]
        self.cases = [(f"NM-{i:02d}", kind, inspectors[i % len(inspectors)]) for i, kind in enumerate(kinds, 1)]
        self.clock.at(2, 9)
        self._state_hypotheses()
        enter_stage(self.ledger, LEAD, REFERENCE, Stage.FIELDWORK)

    def _distinct(self, picked: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        used: set[str] = set()
        return [p for p in (self.sentence(t, v, used) for t, v in picked) if p is not None]

    def _state_hypotheses(self) -> None:
        plans = {
            "H1": ("help-protection", "Child protection plans drift because management oversight is weak.",
                   ("help-protection/cp-conferences-and-plans", "leadership/management-oversight-supervision"),
                   "weakness", "requires-improvement"),
            "H2": ("looked-after", "Children in care live in stable placements that meet their needs.",
                   ("looked-after/placement-stability",), "strength", "good"),
            "H3": ("care-leavers", "Care leavers are not consistently in suitable accommodation.",
                   ("care-leavers/accommodation-staying-put",), "weakness", "requires-improvement"),
            "H4": ("adoption", "Children are adopted quickly, faster than the national average.",
                   ("adoption/timeliness",), "strength", "outstanding"),
            "H5": ("leadership", "Senior leaders know well where practice is weak.",
                   ("leadership/self-evaluation", "leadership/quality-assurance-audit"), "strength", "good"),
        }
        inspection = self.inspection
        for key, (area, text, codes, expects, grade) in plans.items():
            # Stated directly (not through hypothesis.state) so its id, too, follows from the seed.
            hid = self.new_id()
            self.ledger.append(self.ledger.event(
                hypothesis.Stated, hid, LEAD, Role.LEAD, inspection=inspection.id, text=text, area=area, codes=codes,
                expects=hypothesis.direction(grade, expects), provisional_grade=grade,
            ))
            self.hypotheses[key] = hid

    def fieldwork(self, first: int, last: int) -> None:
        """Working days ``first`` to ``last``: each tracked case read, discussed, observed, heard from and coded."""
        for index, (case, kind, who) in enumerate(self.cases):
            day = 3 + index * 9 // len(self.cases)
            if not first <= day <= last:
                continue
            self.clock.at(day, 9 + index % 7)
            themes = CASE_THEMES[kind]
            age = self.rng.randint(1, 17) if kind != "leaver" else self.rng.randint(18, 21)
            child = self.rng.choice(("girl", "boy"))
            about = f"a {age}-year-old {child}" if age < 18 else f"a {age}-year-old care leaver"
            self.record(who, day, f"Case record {case}", source.Kind.CASE_RECORD, self.passages(themes, 6), case,
                        lead_in=f"Case {case}: {about}.")
            self.record(who, day, f"Interview with social worker, {case}", source.Kind.INTERVIEW,
                        self.passages(themes, 4), case, lead_in="The social worker was interviewed about the case.")
            if index % 2 == 0:
                self.record(who, day, f"Observation of a review meeting, {case}", source.Kind.OBSERVATION,
                            self.passages(themes, 3), case, lead_in="The inspector observed a meeting about the child.")
            if index % 3 == 0:
                kind_of = source.Kind.CHILD_FEEDBACK if age >= 8 else source.Kind.FAMILY_FEEDBACK
                said = "The young person spoke to the inspector." if age >= 8 else "A parent spoke to the inspector."
                self.record(who, day, f"Feedback, {case}", kind_of, self.passages(themes, 2), case, lead_in=said)

    def leaders(self, day: int) -> None:
        """The strategic sources: the director, the safeguarding board, a multi-agency audit."""
        self.record("grace.lin", day, "Interview with the director of children's services", source.Kind.INTERVIEW,
                    self.passages([t for t in BANK if t.startswith("leadership/")], 5))
        self.record("grace.lin", day, "Observation of the safeguarding board", source.Kind.MEETING,
                    self.passages([t for t in BANK if t.startswith("lscb/")], 2))
        self.record("femi.adeyemi", day, "Multi-agency audit report", source.Kind.AUDIT,
                    self.passages([t for t in BANK if t.startswith(("lscb/", "leadership/quality"))], 3))

    # --- hypotheses tested against the evidence ----------------------------------------------

    def _hypothesis(self, key: str) -> hypothesis.Hypothesis:
        return self.ledger.get(hypothesis.Hypothesis, self.hypotheses[key])

    def test_hypothesis(self, key: str, who: str, day: int) -> None:
        """Link supporting and contradicting codings, then run the disconfirming-evidence search."""
        self.clock.at(day, 17)
        state = self._hypothesis(key)
        under = [c for c in self.coded if c.code in state.codes and c.id not in state.links]
        for_it = [c for c in under if c.valence == state.expects][:4]
        against = [c for c in under if c.valence not in (state.expects, "neutral")][:2]
        for item, stance in [*((c, "supports") for c in for_it), *((c, "contradicts") for c in against)]:
            held = self.ledger.get(coding.Coding, item.id)
            hypothesis.link(self.ledger, who, self.inspection, self._hypothesis(key), held, stance, item.case)
        self.check(key, who)

    def check(self, key: str, who: str) -> None:
        candidates = [
            hypothesis.Candidate(coding=c.id, code=c.code, valence=coding.Valence(c.valence), source=c.source,
                                 coder=c.coder, case=c.case)
            for c in self.coded
        ]
        inspection = self.inspection
        hypothesis.check(self.ledger, who, inspection, self._hypothesis(key), codebook.load(self.ledger, inspection),
                         candidates, [c[0] for c in self.cases], through=self.ledger.last_position())

    # --- grades ------------------------------------------------------------------------------

    def cite(self, prefixes: tuple[str, ...], grade: str, up_to_day: int, count: int = 8) -> list[uuid.UUID]:
        """Codings under ``prefixes`` made by ``up_to_day``: mostly ones pointing to ``grade``, one against."""
        strong = grade in ("outstanding", "good")
        pool = [c for c in self.coded if c.code.startswith(prefixes) and c.day <= up_to_day]
        pro = [c for c in pool if (c.valence == "strength") == strong]
        con = [c for c in pool if (c.valence == "strength") != strong]
        chosen = self.rng.sample(pro, min(count - 1, len(pro))) + self.rng.sample(con, min(1, len(con)))
        return [c.id for c in chosen]

    def propose(self, who: str, area: str, grade: str, because: str, day: int, hypotheses: tuple[str, ...] = (),
                prefixes: tuple[str, ...] | None = None) -> None:
        self.clock.at(day, 16)
        cited = self.cite(prefixes or (area + "/",), grade, day)
        judgment.propose(self.ledger, who, self.inspection, self.framework, area, grade, because, cited,
                         [self.hypotheses[h] for h in hypotheses])

    def revise(self, who: str, area: str, grade: str, because: str, day: int, hypotheses: tuple[str, ...] = (),
               prefixes: tuple[str, ...] | None = None) -> None:
        self.clock.at(day, 15)
        cited = self.cite(prefixes or (area + "/",), grade, day)
        judgment.revise(self.ledger, who, self.inspection, self.framework, area, grade, because, cited,
                        [self.hypotheses[h] for h in hypotheses])

    def say(self, who: str, area: str, stage: str, audience: str, message: str, grade: str | None) -> None:
        feedback.record(self.ledger, who, self.inspection, self.framework, area=area, stage=stage, audience=audience,
                        message=message, grade=grade)

    def positions(self, items: list[Coded], limit: int = 10) -> tuple[int, ...]:
        return tuple(sorted(self.ledger.positions(c.id)[1] for c in items[:limit]))


class DemoSummary(msgspec.Struct, kw_only=True):
    """What the demo wrote, for the command to print."""

    reference: str
    authority: str
    team: dict[str, str]
    cases: int
    sources: dict[str, int]
    codings: int
    hypotheses: int
    grades: dict[str, str]
    events: int
    head: str


def build(url: str, framework: Framework, book: Codebook, *, seed: int = 2017) -> DemoSummary:
    """Write the whole fictional inspection into the empty ledger at ``url``; returns what was written."""
    clock = DemoClock()
    ledger = Ledger(url, create=True, clock=clock)
    try:
        demo = Demo(ledger, clock, framework, book, seed)
        _story(demo)
        position, digest = ledger.head()
        return DemoSummary(
            reference=REFERENCE, authority=AUTHORITY, team={p: str(r) for p, (_, r) in TEAM.items()},
            cases=len(demo.cases), sources=dict(sorted(demo.sources.items())), codings=len(demo.coded),
            hypotheses=len(demo.hypotheses),
            grades={a: j.grade for a, j in judgment.load_all(ledger, demo.inspection, framework).items()},
            events=position, head=digest.hex(),
        )
    finally:
        ledger.close()


def _story(d: Demo) -> None:
    """The four weeks, in order."""
    d.prepare()
    d.fieldwork(3, 5)
    d.propose(LEAD, "overall", "good", "Early evidence from performance data and the first cases shows effective "
              "help and protection and stable placements.", 5,
              prefixes=("help-protection/", "looked-after/", "leadership/"))
    d.fieldwork(6, 8)
    d.leaders(8)
    d.fieldwork(9, 11)
    for key, who in (("H1", "ben.hughes"), ("H2", "chloe.martin"), ("H3", "erin.walsh"), ("H4", "dev.patel"),
                     ("H5", "grace.lin")):
        d.test_hypothesis(key, who, 11)
    d.clock.at(12, 9)
    enter_stage(d.ledger, LEAD, REFERENCE, Stage.TEAM_MEETING)
    inspection = d.inspection
    hypothesis.accept(d.ledger, "ben.hughes", inspection, d._hypothesis("H1"),
                      "Drift in plans was found in most child protection cases, with oversight missing on the file.")
    hypothesis.accept(d.ledger, "chloe.martin", inspection, d._hypothesis("H2"),
                      "Most children in care have been in stable placements; the contrary cases were planned moves.")
    hypothesis.revise(d.ledger, "dev.patel", inspection, d._hypothesis("H4"),
                      "Children are adopted quickly, within national thresholds.",
                      "Timeliness is strong but not beyond expectations for older children.", provisional_grade="good")
    d.check("H4", "dev.patel")
    hypothesis.accept(d.ledger, "dev.patel", inspection, d._hypothesis("H4"), "The revised wording fits the evidence.")
    hypothesis.reject(d.ledger, "grace.lin", inspection, d._hypothesis("H5"),
                      "Audits and the self-assessment overstate the quality of practice found in tracked cases.")
    d.propose("ben.hughes", "help-protection", "requires-improvement", "Help is mostly timely, but child protection "
              "plans drift and oversight is weak in too many cases.", 13, ("H1",))
    d.propose("chloe.martin", "looked-after", "good", "Placements are stable and children are well supported.", 13,
              ("H2",))
    d.propose("dev.patel", "adoption", "outstanding", "Children are adopted quickly with strong support.", 13, ("H4",))
    d.propose("erin.walsh", "care-leavers", "good", "Personal advisers know care leavers well.", 13)
    d.propose("grace.lin", "leadership", "requires-improvement", "Leaders do not know where practice is weak; "
              "oversight and audit are not yet effective.", 13, ("H5",))
    d.propose("femi.adeyemi", "lscb", "requires-improvement", "The board audits practice but does not challenge.", 13)
    d.revise(LEAD, "overall", "requires-improvement", "Fieldwork found drift in child protection plans and weak "
             "oversight; overall cannot be better than leadership.", 13, ("H1",),
             prefixes=("help-protection/", "leadership/"))
    d.clock.at(14, 16)
    dcs = "the director of children's services"
    d.say(LEAD, "overall", "fieldwork", dcs, "Services are improving and much of what we see is good.", "good")
    d.say("erin.walsh", "care-leavers", "fieldwork", dcs, "Personal advisers are a real strength.", "good")
    d.say("ben.hughes", "help-protection", "fieldwork", dcs, "Plans for children at risk of neglect drift.",
          "requires-improvement")
    d.record("erin.walsh", 14, "Feedback from a care leaver, NM-27", source.Kind.CHILD_FEEDBACK,
             d._distinct([("care-leavers/accommodation-staying-put", "weakness")] * 2), "NM-27",
             lead_in="A care leaver spoke to the inspector by telephone.")
    d.clock.at(15, 9)
    d.test_hypothesis("H3", "erin.walsh", 15)
    hypothesis.accept(d.ledger, "erin.walsh", d.inspection, d._hypothesis("H3"),
                      "Accommodation was unsuitable for several care leavers, confirmed by their own accounts.")
    _review_bias(d)
    d.revise("erin.walsh", "care-leavers", "requires-improvement", "New evidence, including care leavers' own "
             "accounts, shows accommodation is not consistently suitable.", 15, ("H3",))
    _closing(d)


def _review_bias(d: Demo) -> None:
    """Run every registered bias check over the evidence so far, as ``evidence bias --record`` does."""
    from ledger.pluginmanager import registered
    from plugins.bias import run_checks
    from projections import ready
    from projections.bias_view import build as build_view

    inspection = d.inspection
    with ready(d.ledger).connect() as conn:
        view = build_view(conn, inspection.id, None)
    checks = registered("register_bias_checks")
    findings = run_checks(view, checks)
    bias_review.record(d.ledger, LEAD, inspection, findings, through=view.through, area=None,
                       checks=tuple(c.name for c in checks))


def _closing(d: Demo) -> None:
    """Feedback, the panel, moderation, finalising and publication."""
    d.clock.at(16, 10)
    enter_stage(d.ledger, LEAD, REFERENCE, Stage.FEEDBACK)
    audience = "the chief executive, lead member and director of children's services"
    for area, j in judgment.load_all(d.ledger, d.inspection, d.framework).items():
        d.say(LEAD, area, "feedback", audience, f"Our emerging finding for {area} is {j.grade.replace('-', ' ')}.",
              j.grade)
    d.clock.at(17, 10)
    enter_stage(d.ledger, LEAD, REFERENCE, Stage.PANEL)
    panel.convene(d.ledger, LEAD, d.inspection, ["ruth.evans", "sunil.shah"],
                  "test the grades for consistency with the evidence and with other inspections")
    fw, serious = d.framework, ("Neglect drifted for many months in three child protection cases, leaving children "
                                "at risk; the panel regards these as serious failures.")
    dissent = "Sunil Shah: the failures are serious but not widespread, and minimum requirements are met."
    judgment.panel_revise(d.ledger, "ruth.evans", d.inspection, fw, "adoption", "good",
                          "Timeliness is strong but improved outcomes are not yet sustained beyond expectations.",
                          "Sunil Shah: the adoption support offer is exceptional.")
    judgment.panel_revise(d.ledger, "ruth.evans", d.inspection, fw, "help-protection", "inadequate", serious, dissent)
    judgment.panel_revise(d.ledger, "ruth.evans", d.inspection, fw, "overall", "inadequate",
                          "With help and protection inadequate, overall effectiveness must be inadequate.", dissent)
    panel.decide(d.ledger, "ruth.evans", d.inspection,
                 "Adoption, help and protection and overall revised; others stand.")
    d.clock.at(19, 10)
    enter_stage(d.ledger, LEAD, REFERENCE, Stage.MODERATION)
    judgment.moderate(d.ledger, "helen.moore", d.inspection, fw, "help-protection", "requires-improvement",
                      "The failures were found in 3 of 30 tracked cases and the authority acted on each during the "
                      "inspection: serious, but not widespread; requires improvement is the best fit.")
    judgment.moderate(d.ledger, "helen.moore", d.inspection, fw, "overall", "requires-improvement",
                      "No key judgment is inadequate after moderation; overall matches leadership and the key "
                      "judgments.")
    d.clock.at(20, 10)
    narratives = {
        "help-protection": ("inadequate",
                            "Close to inadequate: neglect drifted in three cases, but help is mostly timely."),
        "looked-after": ("requires-improvement", "Good, though health assessments and education plans lag."),
        "adoption": ("outstanding", "Near outstanding on timeliness; support is strong but not yet sustained."),
        "care-leavers": ("good", "Advisers are strong; unsuitable accommodation holds the grade back."),
        "leadership": ("good", "Leaders are ambitious and invest, but do not yet know practice well."),
        "lscb": ("good", "Audits are sound; challenge to partners is the missing piece."),
        "overall": ("inadequate", "Requires improvement, close to inadequate because of the drift in help and "
                    "protection; no key judgment is inadequate and leaders have begun to act."),
    }
    for area, (nearest, narrative) in narratives.items():
        judgment.finalise(d.ledger, LEAD, d.inspection, fw, area, nearest, narrative)
    enter_stage(d.ledger, LEAD, REFERENCE, Stage.PUBLISHED)
    judgment.publish(d.ledger, LEAD, d.inspection, fw, None)
