"""A fictional locality for demonstrations, loaded by `manage.py load_demo`.

Every place, organisation, service and person here is invented. Northbridge is the
main demo; Eastmere is a smaller second site so the separation between sites can be
seen. Northbridge carries the gaps that real sites report, so the gap analysis has
something to find:

- thin Getting Risk Support: three services, two of them NHS, with little capacity;
- little self-referral: only a handful of services accept the "self" route;
- nothing in Getting Help or Getting More Help for 20 to 25 year olds (every such
  service stops at 19 or younger);
- records not checked for more than 13 months, two unmapped services, one paused
  and one planned service, and a long wait for specialist CAMHS.

Phone numbers are in Ofcom's ranges reserved for drama (0161 496 0xxx, 01632 960xxx)
and web addresses use the reserved .example domain, so nothing here reaches a real
service.

Services, organisations and the mapping are written through mapping.services, so the
demo has the same history and rules as data entered through the pages.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from assessment.demo import demo_rounds_load
from gaps.demo import demo_run_load
from mapping import services as mapping_services
from mapping.models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Sector, Service
from mapping.models import ServiceStatus as Status

from .models import AgeBand, Membership, Role, Site, SitePopulation

# Published with the demo and printed by the command: it only ever guards made-up data,
# which is why load_demo refuses to run with DEBUG off unless told it is a demo server.
DEMO_PASSWORD = "thrive-demo-2026"  # noqa: S105

THRIVING = "thriving"
ADVICE = "getting-advice"
HELP = "getting-help"
MORE_HELP = "getting-more-help"
RISK = "getting-risk-support"


@dataclass(frozen=True)
class DemoOffer:
    grouping: str
    share: int
    description: str


@dataclass(frozen=True)
class DemoService:
    name: str
    organisation: str
    sector: str
    description: str
    ages: tuple[int, int]
    settings: tuple[str, ...]
    routes: tuple[str, ...]
    capacity: int | None
    wait_weeks: int | None
    offers: tuple[DemoOffer, ...]
    status: str = Status.ACTIVE
    # None spreads the "last checked" dates over the past ten months.
    checked_days_ago: int | None = None
    # None means every area of the site.
    areas: tuple[str, ...] | None = None
    website: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DemoSite:
    name: str
    slug: str
    region: str
    population: dict[str, int]
    areas: tuple[str, ...]
    organisations: tuple[tuple[str, str], ...]
    services: tuple[DemoService, ...]
    # The commissioner whose name the demo records carry as "entered by" and "checked by".
    recorded_by: str
    # A scored baseline and follow-up of the THRIVE Assessment Tool.
    with_assessment: bool = False


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    role: str
    memberships: tuple[tuple[str, str], ...] = ()
    is_programme_reviewer: bool = False
    is_superuser: bool = False


def _offer(grouping: str, share: int, description: str) -> DemoOffer:
    return DemoOffer(grouping, share, description)


# Northbridge: the main demo, a mid-size town in the North West with four districts.

NB_CENTRAL = "Northbridge Central"
NB_ASHBY = "Ashby Vale"
NB_MILLFORD = "Millford"
NB_KIRKHOLME = "Kirkholme"

NB_TRUST = "Northbridge and Ashby NHS Foundation Trust"
NB_COMMUNITY = "Northbridge Community Health NHS Trust"
NB_HOSPITALS = "Northbridge Teaching Hospitals NHS Trust"
NB_COUNCIL = "Northbridge Council"
NB_CHILDRENS = "Northbridge Children's Services"
NB_SCHOOLS = "Northbridge Schools Partnership"
NB_ASHBY_TRUST = "Ashby Vale Learning Trust"
NB_COLLEGE = "Northbridge College"
NB_OPEN_DOOR = "Open Door Youth Counselling"
NB_HARBOUR = "Harbour Bereavement Care"
NB_CARERS = "Northbridge Young Carers Project"
NB_RAINBOW = "Rainbow Roots"
NB_COLLECTIVE = "Northbridge Wellbeing Collective"
NB_BRIGHTWATER = "Brightwater Family Recovery"
NB_NOURISH = "Nourish Together"
NB_LITTLE_STEPS = "Little Steps Family Support"
NB_FORUM = "Northbridge Parent Carer Forum"
NB_CENTRAL_PCN = "Northbridge Central Primary Care Network"
NB_MK_PCN = "Millford and Kirkholme Primary Care Network"
NB_KINDRED = "Kindred Online"
NB_CALMSPACE = "CalmSpace"
NB_YJS = "Northbridge Youth Justice Service"
NB_LIBRARIES = "Northbridge Libraries and Leisure Trust"
NB_KICKSTART = "Kickstart Sports Trust"
NB_HOUSING = "Northbridge Housing Partnership"

NORTHBRIDGE_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    (NB_TRUST, Sector.NHS),
    (NB_COMMUNITY, Sector.NHS),
    (NB_HOSPITALS, Sector.NHS),
    (NB_COUNCIL, Sector.LOCAL_AUTHORITY),
    (NB_CHILDRENS, Sector.SOCIAL_CARE),
    (NB_SCHOOLS, Sector.EDUCATION),
    (NB_ASHBY_TRUST, Sector.EDUCATION),
    (NB_COLLEGE, Sector.EDUCATION),
    (NB_OPEN_DOOR, Sector.VOLUNTARY),
    (NB_HARBOUR, Sector.VOLUNTARY),
    (NB_CARERS, Sector.VOLUNTARY),
    (NB_RAINBOW, Sector.VOLUNTARY),
    (NB_COLLECTIVE, Sector.VOLUNTARY),
    (NB_BRIGHTWATER, Sector.VOLUNTARY),
    (NB_NOURISH, Sector.VOLUNTARY),
    (NB_LITTLE_STEPS, Sector.VOLUNTARY),
    (NB_FORUM, Sector.VOLUNTARY),
    (NB_CENTRAL_PCN, Sector.PRIMARY_CARE),
    (NB_MK_PCN, Sector.PRIMARY_CARE),
    (NB_KINDRED, Sector.DIGITAL),
    (NB_CALMSPACE, Sector.DIGITAL),
    (NB_YJS, Sector.YOUTH_JUSTICE),
    (NB_LIBRARIES, Sector.OTHER),
    (NB_KICKSTART, Sector.OTHER),
    (NB_HOUSING, Sector.OTHER),
)


def _mhst(
    district: str,
    capacity: int | None,
    wait: int | None,
    *,
    status: str = Status.ACTIVE,
    checked_days_ago: int | None = None,
) -> DemoService:
    """The four Mental Health Support Teams share one description, one per district."""
    return DemoService(
        name=f"Mental Health Support Team – {district}",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            f"Education mental health practitioners working in the primary and secondary schools of {district}, "
            "jointly run with the schools. Low-intensity CBT-based help for mild to moderate anxiety, low mood "
            "and behaviour difficulties, and support for each school's whole-school approach."
        ),
        ages=(5, 18),
        settings=("school",),
        routes=("school",),
        capacity=capacity,
        wait_weeks=wait,
        offers=(
            _offer(THRIVING, 15, "Whole-school approach: staff training, assemblies and wellbeing lessons"),
            _offer(ADVICE, 25, "Consultation for school staff and parents, and signposting"),
            _offer(HELP, 60, "Guided self-help and brief CBT for mild to moderate anxiety and low mood"),
        ),
        areas=(district,),
        status=status,
        checked_days_ago=checked_days_ago,
    )


NORTHBRIDGE_SERVICES: tuple[DemoService, ...] = (
    # NHS
    DemoService(
        name="Specialist CAMHS Community Team",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "Multidisciplinary specialist child and adolescent mental health service: psychiatry, clinical "
            "psychology, family therapy and mental health nursing for moderate to severe difficulties such as "
            "depression, OCD, PTSD and complex anxiety. Routine referrals currently wait around 38 weeks for "
            "treatment to start."
        ),
        ages=(0, 18),
        settings=("clinic", "home"),
        routes=("gp", "school", "social-care", "specialist"),
        capacity=1400,
        wait_weeks=38,
        offers=(
            _offer(HELP, 30, "Assessment and brief, goal-based interventions with clear review points"),
            _offer(MORE_HELP, 65, "Specialist treatment: CBT, family therapy, medication and psychotherapy"),
        ),
        website="https://camhs.northbridge.example",
        email="camhs@northbridge-ashby-nhs.example",
        phone="0161 496 0101",
    ),
    DemoService(
        name="CAMHS Crisis, Liaison and Home Treatment Team",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "Assesses children and young people in mental health crisis, including after self-harm at "
            "Northbridge General's emergency department, and offers short-term intensive home treatment as an "
            "alternative to admission. Six practitioners cover the whole site, 8am to 10pm."
        ),
        ages=(0, 18),
        settings=("clinic", "home", "telephone"),
        routes=("emergency", "specialist", "gp"),
        capacity=220,
        wait_weeks=0,
        offers=(
            _offer(MORE_HELP, 40, "Intensive home treatment for up to six weeks"),
            _offer(RISK, 60, "Crisis assessment, safety planning and multi-agency risk management"),
        ),
        phone="0161 496 0102",
    ),
    DemoService(
        name="Community Eating Disorder Service for Children and Young People",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "Specialist outpatient treatment for anorexia, bulimia, binge eating disorder and ARFID, with "
            "medical monitoring shared with paediatrics. Urgent referrals are seen within a week."
        ),
        ages=(8, 18),
        settings=("clinic", "home"),
        routes=("gp", "specialist"),
        capacity=160,
        wait_weeks=4,
        offers=(_offer(MORE_HELP, 100, "Family-based treatment for anorexia and CBT for eating disorders"),),
        email="ceds@northbridge-ashby-nhs.example",
    ),
    DemoService(
        name="Neurodevelopmental Assessment Pathway",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "Multidisciplinary autism and ADHD assessment for school-age children, with post-diagnostic "
            "workshops for parents. The waiting list has grown since 2022."
        ),
        ages=(5, 18),
        settings=("clinic", "school"),
        routes=("gp", "school", "specialist"),
        capacity=600,
        wait_weeks=44,
        offers=(
            _offer(HELP, 30, "Post-diagnostic workshops and advice for parents and schools"),
            _offer(MORE_HELP, 50, "Multidisciplinary autism and ADHD assessment and medication review"),
        ),
    ),
    DemoService(
        name="Learning Disability CAMHS",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "Specialist mental health care for children and young people with a moderate to severe learning "
            "disability, including positive behaviour support with families and special schools."
        ),
        ages=(5, 18),
        settings=("clinic", "home", "school"),
        routes=("specialist", "social-care"),
        capacity=90,
        wait_weeks=26,
        offers=(_offer(MORE_HELP, 80, "Positive behaviour support and adapted specialist therapy"),),
    ),
    _mhst(NB_CENTRAL, 500, 3),
    _mhst(NB_ASHBY, 450, 5),
    # Not checked since the team's manager left.
    _mhst(NB_MILLFORD, 480, 4, checked_days_ago=430),
    # Funded from next April in the long-term plan; recruitment under way.
    _mhst(NB_KIRKHOLME, 450, None, status=Status.PLANNED),
    DemoService(
        name="24/7 Mental Health Crisis Line for Young People",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "A free telephone line answered day and night by mental health practitioners, for young people "
            "and for parents worried about a child. Callers at risk are passed straight to the crisis team."
        ),
        ages=(0, 18),
        settings=("telephone",),
        routes=("self", "parent-carer", "emergency"),
        capacity=1500,
        wait_weeks=0,
        offers=(
            _offer(ADVICE, 70, "Listening, advice and signposting, day and night"),
            _offer(RISK, 10, "Immediate safety planning and urgent referral to the crisis team"),
        ),
        phone="0161 496 0100",
    ),
    DemoService(
        name="CAMHS Single Point of Access",
        organisation=NB_TRUST,
        sector=Sector.NHS,
        description=(
            "Every referral to children's mental health services in Northbridge is triaged here within five "
            "working days; families who do not need specialist care get advice and a warm handover."
        ),
        ages=(0, 18),
        settings=("telephone", "online"),
        routes=("gp", "school", "social-care", "parent-carer"),
        capacity=3500,
        wait_weeks=1,
        offers=(_offer(ADVICE, 90, "Triage, advice and signposting to the right service"),),
        email="camhs-spa@northbridge-ashby-nhs.example",
        phone="0161 496 0103",
    ),
    DemoService(
        name="Perinatal and Parent-Infant Relationship Service",
        organisation=NB_COMMUNITY,
        sector=Sector.NHS,
        description=(
            "Parent-infant psychotherapists and health visitors working with parents and babies where the "
            "relationship is under strain, from pregnancy to the child's second birthday."
        ),
        ages=(0, 2),
        settings=("home", "clinic"),
        routes=("health-visitor", "gp", "specialist"),
        capacity=140,
        wait_weeks=6,
        offers=(
            _offer(HELP, 50, "Parent-infant psychotherapy and video interaction guidance"),
            _offer(MORE_HELP, 40, "Joint work with adult perinatal services for parents with severe illness"),
        ),
    ),
    DemoService(
        name="Health Visiting: Emotional Wellbeing Contacts",
        organisation=NB_COMMUNITY,
        sector=Sector.NHS,
        description=(
            "The universal health visiting contacts include a check of parental mood and the parent-baby "
            "relationship, with listening visits for parents who need them."
        ),
        ages=(0, 4),
        settings=("home", "community"),
        routes=("gp", "parent-carer"),
        capacity=3200,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 70, "Universal contacts with a perinatal mood and attachment check"),
            _offer(ADVICE, 30, "Listening visits and signposting for parents"),
        ),
    ),
    DemoService(
        name="School Nursing: Emotional Health Drop-ins",
        organisation=NB_COMMUNITY,
        sector=Sector.NHS,
        description="Weekly confidential drop-ins run by school nurses in every secondary school and college.",
        ages=(5, 19),
        settings=("school",),
        routes=("school", "parent-carer"),
        capacity=1800,
        wait_weeks=1,
        offers=(
            _offer(THRIVING, 40, "Health promotion sessions on sleep, stress and online life"),
            _offer(ADVICE, 60, "Confidential drop-in advice and referral on"),
        ),
    ),
    DemoService(
        name="Paediatric Psychology Service",
        organisation=NB_HOSPITALS,
        sector=Sector.NHS,
        description=(
            "Clinical psychologists in the children's hospital supporting children with long-term conditions "
            "such as diabetes, epilepsy and cystic fibrosis, and their families."
        ),
        ages=(0, 18),
        settings=("clinic",),
        routes=("specialist",),
        capacity=250,
        wait_weeks=18,
        offers=(
            _offer(HELP, 40, "Focused psychological help with adjusting to illness and treatment"),
            _offer(MORE_HELP, 50, "Specialist therapy for complex presentations alongside physical illness"),
        ),
    ),
    # Local authority
    DemoService(
        name="Early Help Family Support",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description=(
            "Family support workers in each district help families with several needs at once, through a "
            "whole-family early help plan agreed with the family."
        ),
        ages=(0, 18),
        settings=("home", "community"),
        routes=("school", "parent-carer", "health-visitor", "social-care"),
        capacity=900,
        wait_weeks=3,
        offers=(
            _offer(ADVICE, 40, "Advice, signposting and help to reach community offers"),
            _offer(HELP, 50, "Whole-family early help plans with a named key worker"),
        ),
        email="earlyhelp@northbridge-council.example",
    ),
    DemoService(
        name="Family Hubs: Start for Life",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="Baby and toddler groups, infant feeding support and parent wellbeing sessions in four hubs.",
        ages=(0, 4),
        settings=("community",),
        routes=("parent-carer", "health-visitor"),
        capacity=2500,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 70, "Stay-and-play, baby massage and parent wellbeing groups"),
            _offer(ADVICE, 30, "Parenting advice and signposting"),
        ),
    ),
    DemoService(
        name="Educational Psychology Service",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description=(
            "Educational psychologists advise schools and families on learning and emotional needs and run "
            "short therapeutic programmes in schools."
        ),
        ages=(3, 19),
        settings=("school", "community"),
        routes=("school", "specialist"),
        capacity=650,
        wait_weeks=10,
        offers=(
            _offer(ADVICE, 60, "Consultation with schools and families"),
            _offer(HELP, 20, "Short therapeutic programmes such as video interaction guidance"),
        ),
    ),
    DemoService(
        name="Northbridge Youth Service",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="Youth clubs in each district and detached youth work in parks and town centres.",
        ages=(11, 19),
        settings=("community",),
        routes=("self", "school"),
        capacity=1600,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 70, "Open-access youth clubs and detached youth work"),
            _offer(ADVICE, 30, "Youth workers' advice and signposting"),
        ),
    ),
    DemoService(
        name="SEND Information, Advice and Support Service",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="Impartial advice for children and young people with special educational needs and their parents.",
        ages=(0, 25),
        settings=("online", "telephone", "community"),
        routes=("parent-carer", "school"),
        capacity=700,
        wait_weeks=1,
        offers=(_offer(ADVICE, 100, "Impartial advice on SEND support, plans and appeals"),),
    ),
    DemoService(
        name="Healthy Schools Programme",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="Public health team supporting schools with a wellbeing curriculum and staff training.",
        ages=(4, 18),
        settings=("school",),
        routes=("school",),
        capacity=4000,
        wait_weeks=0,
        offers=(_offer(THRIVING, 100, "Whole-school wellbeing curriculum and staff training"),),
    ),
    DemoService(
        name="Northbridge Parenting Programmes",
        organisation=NB_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="Evidence-based group parenting programmes for parents of children with behaviour difficulties.",
        ages=(2, 12),
        settings=("community",),
        routes=("parent-carer", "health-visitor", "school", "gp"),
        capacity=300,
        wait_weeks=8,
        offers=(
            _offer(ADVICE, 30, "Parenting advice sessions"),
            _offer(HELP, 70, "Twelve-week group parenting programmes"),
        ),
        checked_days_ago=480,
    ),
    DemoService(
        name="Virtual School Emotional Wellbeing Offer",
        organisation=NB_COUNCIL,
        sector=Sector.EDUCATION,
        description="The Virtual School's support for the emotional wellbeing of children in care at school.",
        ages=(4, 18),
        settings=("school",),
        routes=("social-care",),
        capacity=120,
        wait_weeks=2,
        offers=(
            _offer(ADVICE, 40, "Trauma-informed practice advice for designated teachers"),
            _offer(HELP, 40, "Emotional literacy sessions for children in care"),
        ),
    ),
    # Social care
    DemoService(
        name="Children in Care Therapeutic Team",
        organisation=NB_CHILDRENS,
        sector=Sector.SOCIAL_CARE,
        description="Therapists working with children in care, their carers and social workers.",
        ages=(0, 18),
        settings=("home", "clinic"),
        routes=("social-care",),
        capacity=110,
        wait_weeks=8,
        offers=(
            _offer(HELP, 40, "Consultation to carers and social workers"),
            _offer(MORE_HELP, 50, "Therapeutic life-story work and trauma-focused therapy"),
        ),
    ),
    DemoService(
        name="Edge of Care Team",
        organisation=NB_CHILDRENS,
        sector=Sector.SOCIAL_CARE,
        description="Intensive support for families where a teenager is at risk of coming into care.",
        ages=(11, 17),
        settings=("home",),
        routes=("social-care",),
        capacity=80,
        wait_weeks=1,
        offers=(
            _offer(ADVICE, 20, "Advice to families and schools"),
            _offer(HELP, 60, "Intensive whole-family support over twelve weeks"),
        ),
    ),
    # Added after the last mapping workshop and not yet placed: it belongs in risk support.
    DemoService(
        name="Complex Safeguarding Team",
        organisation=NB_CHILDRENS,
        sector=Sector.SOCIAL_CARE,
        description=(
            "Social workers and youth workers supporting young people at risk of criminal or sexual "
            "exploitation, working with the police and the youth justice service."
        ),
        ages=(10, 18),
        settings=("community", "home"),
        routes=("social-care", "youth-justice", "emergency"),
        capacity=60,
        wait_weeks=0,
        offers=(),
    ),
    DemoService(
        name="Care Leavers Wellbeing Check-ins",
        organisation=NB_CHILDRENS,
        sector=Sector.SOCIAL_CARE,
        description="Personal advisers check in on care leavers' wellbeing and help them reach adult services.",
        ages=(16, 25),
        settings=("community", "telephone"),
        routes=("social-care",),
        capacity=260,
        wait_weeks=0,
        offers=(_offer(ADVICE, 100, "Wellbeing check-ins and signposting by personal advisers"),),
    ),
    DemoService(
        name="Fostering Support: Therapeutic Parenting Groups",
        organisation=NB_CHILDRENS,
        sector=Sector.SOCIAL_CARE,
        description="Groups for foster and kinship carers on caring for children who have experienced trauma.",
        ages=(0, 18),
        settings=("community",),
        routes=("social-care",),
        capacity=150,
        wait_weeks=4,
        offers=(
            _offer(ADVICE, 50, "Monthly carers' support groups"),
            _offer(HELP, 30, "Ten-week therapeutic parenting course"),
        ),
    ),
    # Education
    DemoService(
        name="School Counselling Service",
        organisation=NB_SCHOOLS,
        sector=Sector.EDUCATION,
        description="Qualified counsellors in 22 primary and secondary schools, bought in by the schools.",
        ages=(9, 18),
        settings=("school",),
        routes=("school",),
        capacity=650,
        wait_weeks=6,
        offers=(_offer(HELP, 90, "Up to twelve sessions of school-based counselling"),),
    ),
    DemoService(
        name="Emotional Literacy Support Assistants",
        organisation=NB_SCHOOLS,
        sector=Sector.EDUCATION,
        description="Teaching assistants trained by educational psychologists to run short emotional literacy work.",
        ages=(5, 11),
        settings=("school",),
        routes=("school",),
        capacity=800,
        wait_weeks=2,
        offers=(
            _offer(THRIVING, 30, "Class-wide emotional literacy activities"),
            _offer(ADVICE, 40, "Check-ins and advice for pupils and parents"),
            _offer(HELP, 30, "Six-week one-to-one programmes"),
        ),
    ),
    DemoService(
        name="Alternative Provision Therapeutic Support",
        organisation=NB_SCHOOLS,
        sector=Sector.EDUCATION,
        description="An on-site therapist and key workers at the pupil referral unit.",
        ages=(11, 16),
        settings=("school",),
        routes=("school", "youth-justice"),
        capacity=70,
        wait_weeks=2,
        offers=(
            _offer(ADVICE, 20, "Key worker advice for pupils and families"),
            _offer(HELP, 60, "Weekly therapy with the on-site therapist"),
        ),
    ),
    DemoService(
        name="Senior Mental Health Leads Network",
        organisation=NB_SCHOOLS,
        sector=Sector.EDUCATION,
        description="Training and a termly network for every school's senior mental health lead.",
        ages=(4, 18),
        settings=("school",),
        routes=("school",),
        capacity=3000,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 80, "Whole-school approach training for senior mental health leads"),
            _offer(ADVICE, 20, "Advice line for mental health leads"),
        ),
    ),
    DemoService(
        name="Ashby Vale Wellbeing Hubs",
        organisation=NB_ASHBY_TRUST,
        sector=Sector.EDUCATION,
        description="Lunchtime drop-in rooms with trained staff in the trust's three secondary schools.",
        ages=(11, 16),
        settings=("school",),
        routes=("school", "parent-carer"),
        capacity=400,
        wait_weeks=1,
        offers=(
            _offer(THRIVING, 40, "Lunchtime clubs and peer mentoring"),
            _offer(ADVICE, 40, "Drop-in support with trained staff"),
        ),
        areas=(NB_ASHBY,),
    ),
    DemoService(
        name="Ashby Vale Nurture Groups",
        organisation=NB_ASHBY_TRUST,
        sector=Sector.EDUCATION,
        description="Small nurture classes for primary pupils with social and emotional difficulties.",
        ages=(4, 11),
        settings=("school",),
        routes=("school",),
        capacity=90,
        wait_weeks=6,
        offers=(_offer(HELP, 80, "Part-time nurture groups with termly progress reviews"),),
        checked_days_ago=520,
        areas=(NB_ASHBY,),
    ),
    # Added by the college in the spring and not yet mapped.
    DemoService(
        name="Northbridge College Wellbeing Team",
        organisation=NB_COLLEGE,
        sector=Sector.EDUCATION,
        description="Wellbeing practitioners and a counsellor for the college's 16 to 19 year old students.",
        ages=(16, 19),
        settings=("school",),
        routes=("school",),
        capacity=350,
        wait_weeks=2,
        offers=(),
        areas=(NB_CENTRAL,),
    ),
    # Voluntary and community
    DemoService(
        name="Open Door Youth Counselling",
        organisation=NB_OPEN_DOOR,
        sector=Sector.VOLUNTARY,
        description=(
            "Free, confidential counselling for young people, face to face and online. Funded for 11 to 18 "
            "year olds only since the young adults contract ended."
        ),
        ages=(11, 18),
        settings=("community", "online"),
        routes=("self", "parent-carer", "school", "gp"),
        capacity=520,
        wait_weeks=14,
        offers=(
            _offer(ADVICE, 20, "Weekly drop-in advice sessions"),
            _offer(HELP, 80, "Up to twelve sessions of person-centred counselling"),
        ),
        website="https://opendoor.example",
        email="hello@opendoor.example",
        phone="0161 496 0210",
    ),
    DemoService(
        name="Children's Bereavement Support",
        organisation=NB_HARBOUR,
        sector=Sector.VOLUNTARY,
        description="One-to-one support for children and young people after the death of someone close.",
        ages=(4, 18),
        settings=("home", "community"),
        routes=("parent-carer", "school", "gp"),
        capacity=180,
        wait_weeks=10,
        offers=(
            _offer(ADVICE, 30, "Advice for parents and schools on supporting a grieving child"),
            _offer(HELP, 70, "One-to-one bereavement support"),
        ),
    ),
    # Paused when its lottery grant ended; the charity is bidding again.
    DemoService(
        name="Bereavement Group Programme",
        organisation=NB_HARBOUR,
        sector=Sector.VOLUNTARY,
        description="Six-week groups for bereaved children and their parents.",
        ages=(8, 16),
        settings=("community",),
        routes=("parent-carer", "school"),
        capacity=60,
        wait_weeks=None,
        offers=(
            _offer(ADVICE, 40, "Parent sessions alongside the children's group"),
            _offer(HELP, 40, "Six-week group programme"),
        ),
        status=Status.PAUSED,
    ),
    DemoService(
        name="Young Carers Support",
        organisation=NB_CARERS,
        sector=Sector.VOLUNTARY,
        description="Groups, trips and one-to-one support for children who care for a family member.",
        ages=(8, 18),
        settings=("community", "school"),
        routes=("school", "parent-carer", "social-care"),
        capacity=300,
        wait_weeks=3,
        offers=(
            _offer(THRIVING, 50, "Young carers' groups and respite activities"),
            _offer(ADVICE, 50, "One-to-one advice and school young carer champions"),
        ),
    ),
    DemoService(
        name="Rainbow Roots LGBTQ+ Youth Groups",
        organisation=NB_RAINBOW,
        sector=Sector.VOLUNTARY,
        description="Weekly social groups and one-to-one support for LGBTQ+ young people.",
        ages=(11, 19),
        settings=("community",),
        routes=("self", "school"),
        capacity=150,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 60, "Weekly youth groups"),
            _offer(ADVICE, 40, "One-to-one support and signposting"),
        ),
    ),
    DemoService(
        name="Peer Support Groups for Teenagers",
        organisation=NB_COLLECTIVE,
        sector=Sector.VOLUNTARY,
        description="Facilitated peer support groups for teenagers with anxiety or low mood.",
        ages=(14, 19),
        settings=("community",),
        routes=("school", "parent-carer", "gp"),
        capacity=200,
        wait_weeks=2,
        offers=(
            _offer(THRIVING, 30, "Open wellbeing sessions"),
            _offer(ADVICE, 50, "Facilitated peer support groups"),
        ),
    ),
    DemoService(
        name="Helping Your Child with Anxiety: Parent Workshops",
        organisation=NB_COLLECTIVE,
        sector=Sector.VOLUNTARY,
        description="Four-session parent-led CBT programme for parents of anxious children.",
        ages=(5, 16),
        settings=("community", "online"),
        routes=("parent-carer", "gp", "school"),
        capacity=240,
        wait_weeks=4,
        offers=(
            _offer(ADVICE, 60, "Introductory workshop on childhood anxiety"),
            _offer(HELP, 40, "Four-session parent-led CBT"),
        ),
    ),
    DemoService(
        name="Children's Domestic Abuse Recovery Programme",
        organisation=NB_BRIGHTWATER,
        sector=Sector.VOLUNTARY,
        description="Group and one-to-one recovery work for children who have lived with domestic abuse.",
        ages=(4, 16),
        settings=("community",),
        routes=("social-care", "school", "parent-carer"),
        capacity=120,
        wait_weeks=12,
        offers=(_offer(HELP, 90, "Ten-week recovery groups and one-to-one sessions"),),
        checked_days_ago=400,
    ),
    DemoService(
        name="Nourish Together Family Support",
        organisation=NB_NOURISH,
        sector=Sector.VOLUNTARY,
        description="Support for families of young people with eating disorders, alongside NHS treatment.",
        ages=(10, 19),
        settings=("online", "community"),
        routes=("parent-carer", "specialist", "gp"),
        capacity=90,
        wait_weeks=2,
        offers=(
            _offer(ADVICE, 60, "Carer workshops and a parents' helpline"),
            _offer(HELP, 30, "Peer support for young people in recovery"),
        ),
    ),
    DemoService(
        name="Perinatal Peer Support",
        organisation=NB_LITTLE_STEPS,
        sector=Sector.VOLUNTARY,
        description="Trained volunteers visit parents who are struggling after the birth of a baby.",
        ages=(0, 2),
        settings=("home", "community"),
        routes=("health-visitor", "gp", "parent-carer"),
        capacity=160,
        wait_weeks=3,
        offers=(
            _offer(THRIVING, 40, "Parent and baby groups"),
            _offer(ADVICE, 60, "Home visits by trained volunteers"),
        ),
    ),
    DemoService(
        name="Parent Carer Peer Support",
        organisation=NB_FORUM,
        sector=Sector.VOLUNTARY,
        description="Peer support and information for parents of children with SEND.",
        ages=(0, 25),
        settings=("community", "online"),
        routes=("parent-carer",),
        capacity=400,
        wait_weeks=0,
        offers=(_offer(ADVICE, 100, "Coffee mornings, a parents' forum and information sessions"),),
    ),
    # Primary care
    DemoService(
        name="Social Prescribing for Children and Young People",
        organisation=NB_CENTRAL_PCN,
        sector=Sector.PRIMARY_CARE,
        description="Link workers connect young people to community activities and support.",
        ages=(5, 18),
        settings=("primary-care", "community"),
        routes=("gp",),
        capacity=260,
        wait_weeks=3,
        offers=(
            _offer(THRIVING, 30, "Connection to sport, arts and community groups"),
            _offer(ADVICE, 70, "Link worker sessions and signposting"),
        ),
        areas=(NB_CENTRAL, NB_ASHBY),
    ),
    DemoService(
        name="Primary Care Mental Health Practitioners (Central)",
        organisation=NB_CENTRAL_PCN,
        sector=Sector.PRIMARY_CARE,
        description="Mental health practitioners in GP practices offering same-week appointments to teenagers.",
        ages=(12, 18),
        settings=("primary-care",),
        routes=("gp",),
        capacity=300,
        wait_weeks=5,
        offers=(
            _offer(ADVICE, 40, "Same-week assessment and advice"),
            _offer(HELP, 60, "Brief CBT-informed interventions"),
        ),
        areas=(NB_CENTRAL, NB_ASHBY),
    ),
    DemoService(
        name="GP Practices: Northbridge Central PCN",
        organisation=NB_CENTRAL_PCN,
        sector=Sector.PRIMARY_CARE,
        description="Nine GP practices: consultation, advice and referral for children, young people and parents.",
        ages=(0, 25),
        settings=("primary-care",),
        routes=("parent-carer",),
        capacity=2500,
        wait_weeks=1,
        offers=(_offer(ADVICE, 100, "GP consultation, advice and onward referral"),),
        areas=(NB_CENTRAL, NB_ASHBY),
    ),
    DemoService(
        name="GP Practices: Millford and Kirkholme PCN",
        organisation=NB_MK_PCN,
        sector=Sector.PRIMARY_CARE,
        description="Seven GP practices: consultation, advice and referral for children, young people and parents.",
        ages=(0, 25),
        settings=("primary-care",),
        routes=("parent-carer",),
        capacity=1800,
        wait_weeks=1,
        offers=(_offer(ADVICE, 100, "GP consultation, advice and onward referral"),),
        checked_days_ago=450,
        areas=(NB_MILLFORD, NB_KIRKHOLME),
    ),
    DemoService(
        name="Primary Care Mental Health Practitioner (Millford and Kirkholme)",
        organisation=NB_MK_PCN,
        sector=Sector.PRIMARY_CARE,
        description="One mental health practitioner shared by the network's practices.",
        ages=(14, 18),
        settings=("primary-care",),
        routes=("gp",),
        capacity=150,
        wait_weeks=7,
        offers=(
            _offer(ADVICE, 30, "Assessment and advice"),
            _offer(HELP, 70, "Brief CBT-informed interventions"),
        ),
        areas=(NB_MILLFORD, NB_KIRKHOLME),
    ),
    # Digital
    DemoService(
        name="Kindred Online Counselling",
        organisation=NB_KINDRED,
        sector=Sector.DIGITAL,
        description="Anonymous online counselling by chat, moderated forums and self-help articles.",
        ages=(11, 18),
        settings=("online",),
        routes=("self", "school", "gp"),
        capacity=1800,
        wait_weeks=0,
        offers=(
            _offer(ADVICE, 40, "Moderated peer forums and self-help articles"),
            _offer(HELP, 50, "Text-based counselling sessions"),
        ),
        website="https://kindred-online.example",
    ),
    DemoService(
        name="Kindred Online for Parents",
        organisation=NB_KINDRED,
        sector=Sector.DIGITAL,
        description="Online advice for parents and carers worried about a child's mental health.",
        ages=(0, 18),
        settings=("online",),
        routes=("parent-carer",),
        capacity=500,
        wait_weeks=0,
        offers=(_offer(ADVICE, 100, "Chat with a practitioner and a parents' forum"),),
        website="https://kindred-online.example/parents",
    ),
    DemoService(
        name="CalmSpace Self-help App",
        organisation=NB_CALMSPACE,
        sector=Sector.DIGITAL,
        description="A self-help app with mood tracking, breathing exercises and CBT-based courses.",
        ages=(13, 25),
        settings=("online",),
        routes=("self",),
        capacity=3000,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 60, "Mood tracking and wellbeing exercises"),
            _offer(ADVICE, 40, "Self-help courses for anxiety, sleep and low mood"),
        ),
        website="https://calmspace.example",
    ),
    # Youth justice
    DemoService(
        name="Youth Justice Enhanced Case Management",
        organisation=NB_YJS,
        sector=Sector.YOUTH_JUSTICE,
        description=(
            "Trauma-informed case management for young people in the justice system with the most complex "
            "needs, planned with a clinical psychologist."
        ),
        ages=(10, 17),
        settings=("community", "home"),
        routes=("youth-justice",),
        capacity=45,
        wait_weeks=1,
        offers=(
            _offer(HELP, 30, "Formulation-led plans with the case manager"),
            _offer(RISK, 50, "Multi-agency risk management for young people at high risk of harm"),
        ),
    ),
    DemoService(
        name="Youth Justice Health and Wellbeing Team",
        organisation=NB_YJS,
        sector=Sector.YOUTH_JUSTICE,
        description="Health screening, speech and language therapy, and a seconded CAMHS nurse.",
        ages=(10, 17),
        settings=("community",),
        routes=("youth-justice",),
        capacity=120,
        wait_weeks=2,
        offers=(
            _offer(ADVICE, 40, "Health screening and advice"),
            _offer(HELP, 50, "Mental health and communication assessment and brief intervention"),
        ),
    ),
    DemoService(
        name="Turnaround Prevention Programme",
        organisation=NB_YJS,
        sector=Sector.YOUTH_JUSTICE,
        description="Early support for children on the cusp of the justice system, to prevent offending.",
        ages=(10, 17),
        settings=("community",),
        routes=("youth-justice", "emergency", "school"),
        capacity=90,
        wait_weeks=1,
        offers=(
            _offer(THRIVING, 30, "Positive activities and mentoring"),
            _offer(ADVICE, 50, "Key worker support and advice to families"),
        ),
    ),
    # Other
    DemoService(
        name="Reading Well for Young People",
        organisation=NB_LIBRARIES,
        sector=Sector.OTHER,
        description="Books on mental health chosen with young people and clinicians, lent free in every library.",
        ages=(11, 25),
        settings=("community", "online"),
        routes=("school", "gp"),
        capacity=2000,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 60, "Free books and reading groups"),
            _offer(ADVICE, 40, "Recommended self-help reading"),
        ),
    ),
    DemoService(
        name="Active Minds Sport and Wellbeing",
        organisation=NB_LIBRARIES,
        sector=Sector.OTHER,
        description="Free leisure centre sessions for children and young people referred for their wellbeing.",
        ages=(8, 18),
        settings=("community",),
        routes=("school", "gp", "parent-carer"),
        capacity=600,
        wait_weeks=0,
        offers=(_offer(THRIVING, 90, "Weekly sport and wellbeing sessions"),),
    ),
    DemoService(
        name="Kickstart Sports Mentoring",
        organisation=NB_KICKSTART,
        sector=Sector.OTHER,
        description="Sports coaches mentor young people who are disengaging from school.",
        ages=(11, 18),
        settings=("community",),
        routes=("school", "youth-justice", "social-care"),
        capacity=120,
        wait_weeks=4,
        offers=(
            _offer(THRIVING, 40, "Team sport sessions"),
            _offer(ADVICE, 40, "One-to-one mentoring"),
        ),
    ),
    DemoService(
        name="Youth Homelessness Prevention Workers",
        organisation=NB_HOUSING,
        sector=Sector.OTHER,
        description="Housing support workers helping young people at risk of homelessness, and their families.",
        ages=(16, 21),
        settings=("community", "home"),
        routes=("social-care", "school"),
        capacity=140,
        wait_weeks=2,
        offers=(_offer(ADVICE, 100, "Housing advice, mediation with families and signposting"),),
    ),
)

# Eastmere: a smaller coastal site in the East of England. Unlike Northbridge, its youth
# counselling and digital offers reach 25.

EM_TRUST = "Eastmere and Fenwick NHS Foundation Trust"
EM_COUNCIL = "Eastmere County Council"
EM_SCHOOLS = "Fenwick Schools Alliance"
EM_SALTMARSH = "Saltmarsh Youth Trust"
EM_PCN = "Eastmere Coastal Primary Care Network"
EM_KINDRED = "Kindred Online"
EM_YJS = "Eastmere Youth Justice Service"

EASTMERE_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    (EM_TRUST, Sector.NHS),
    (EM_COUNCIL, Sector.LOCAL_AUTHORITY),
    (EM_SCHOOLS, Sector.EDUCATION),
    (EM_SALTMARSH, Sector.VOLUNTARY),
    (EM_PCN, Sector.PRIMARY_CARE),
    (EM_KINDRED, Sector.DIGITAL),
    (EM_YJS, Sector.YOUTH_JUSTICE),
)

EASTMERE_SERVICES: tuple[DemoService, ...] = (
    DemoService(
        name="Eastmere CAMHS",
        organisation=EM_TRUST,
        sector=Sector.NHS,
        description="Specialist community CAMHS for Eastmere and Fenwick.",
        ages=(0, 18),
        settings=("clinic", "home"),
        routes=("gp", "school", "social-care"),
        capacity=900,
        wait_weeks=22,
        offers=(
            _offer(HELP, 30, "Assessment and brief focused interventions"),
            _offer(MORE_HELP, 60, "Specialist evidence-based treatment"),
        ),
        phone="01632 960101",
    ),
    DemoService(
        name="Eastmere Crisis and Home Treatment",
        organisation=EM_TRUST,
        sector=Sector.NHS,
        description="Crisis assessment and intensive home treatment, seven days a week.",
        ages=(0, 18),
        settings=("home", "clinic", "telephone"),
        routes=("emergency", "specialist", "gp"),
        capacity=150,
        wait_weeks=0,
        offers=(
            _offer(MORE_HELP, 30, "Intensive home treatment"),
            _offer(RISK, 70, "Crisis assessment and multi-agency safety planning"),
        ),
    ),
    DemoService(
        name="Eastmere Eating Disorder Service",
        organisation=EM_TRUST,
        sector=Sector.NHS,
        description="Specialist outpatient eating disorder treatment for children and young people.",
        ages=(8, 18),
        settings=("clinic",),
        routes=("gp", "specialist"),
        capacity=80,
        wait_weeks=3,
        offers=(_offer(MORE_HELP, 100, "Family-based treatment and CBT for eating disorders"),),
    ),
    DemoService(
        name="Mental Health Support Team – Eastmere Town",
        organisation=EM_TRUST,
        sector=Sector.NHS,
        description="Education mental health practitioners in Eastmere Town's schools.",
        ages=(5, 18),
        settings=("school",),
        routes=("school",),
        capacity=500,
        wait_weeks=4,
        offers=(
            _offer(THRIVING, 10, "Whole-school approach support"),
            _offer(ADVICE, 30, "Consultation for school staff"),
            _offer(HELP, 60, "Guided self-help and brief CBT"),
        ),
        areas=("Eastmere Town",),
    ),
    DemoService(
        name="Early Help Hub",
        organisation=EM_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="One front door for early help for families across the county's coastal districts.",
        ages=(0, 18),
        settings=("home", "community"),
        routes=("parent-carer", "school", "health-visitor"),
        capacity=700,
        wait_weeks=2,
        offers=(
            _offer(ADVICE, 50, "Advice and signposting"),
            _offer(HELP, 40, "Whole-family support plans"),
        ),
    ),
    DemoService(
        name="Eastmere Family Hubs",
        organisation=EM_COUNCIL,
        sector=Sector.LOCAL_AUTHORITY,
        description="Baby and toddler groups and parent wellbeing support.",
        ages=(0, 4),
        settings=("community",),
        routes=("parent-carer", "health-visitor"),
        capacity=1200,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 70, "Baby and toddler groups"),
            _offer(ADVICE, 30, "Parenting advice"),
        ),
    ),
    DemoService(
        name="School Counselling Partnership",
        organisation=EM_SCHOOLS,
        sector=Sector.EDUCATION,
        description="Counsellors shared between the alliance's secondary schools.",
        ages=(11, 18),
        settings=("school",),
        routes=("school",),
        capacity=300,
        wait_weeks=5,
        offers=(_offer(HELP, 90, "Up to ten sessions of counselling"),),
    ),
    DemoService(
        name="Saltmarsh Youth Counselling",
        organisation=EM_SALTMARSH,
        sector=Sector.VOLUNTARY,
        description="Counselling for young people up to 25, in Eastmere Town and on the coast.",
        ages=(11, 25),
        settings=("community", "online"),
        routes=("self", "gp", "school"),
        capacity=350,
        wait_weeks=8,
        offers=(
            _offer(ADVICE, 20, "Drop-in advice"),
            _offer(HELP, 80, "Person-centred counselling"),
        ),
    ),
    DemoService(
        name="Saltmarsh Youth Clubs",
        organisation=EM_SALTMARSH,
        sector=Sector.VOLUNTARY,
        description="Youth clubs in four coastal villages.",
        ages=(11, 19),
        settings=("community",),
        routes=("self",),
        capacity=400,
        wait_weeks=0,
        offers=(
            _offer(THRIVING, 80, "Open-access youth clubs"),
            _offer(ADVICE, 20, "Youth worker advice"),
        ),
        areas=("Saltmarsh Coast", "Fenwick"),
    ),
    DemoService(
        name="Coastal Mental Health Practitioners",
        organisation=EM_PCN,
        sector=Sector.PRIMARY_CARE,
        description="Mental health practitioners in GP practices for young people aged 14 to 25.",
        ages=(14, 25),
        settings=("primary-care",),
        routes=("gp",),
        capacity=200,
        wait_weeks=3,
        offers=(
            _offer(ADVICE, 40, "Assessment and advice"),
            _offer(HELP, 60, "Brief psychological interventions"),
        ),
    ),
    DemoService(
        name="Kindred Online Counselling",
        organisation=EM_KINDRED,
        sector=Sector.DIGITAL,
        description="Anonymous online counselling by chat, commissioned for 11 to 25 year olds in Eastmere.",
        ages=(11, 25),
        settings=("online",),
        routes=("self",),
        capacity=900,
        wait_weeks=0,
        offers=(
            _offer(ADVICE, 40, "Forums and self-help articles"),
            _offer(HELP, 50, "Text-based counselling"),
        ),
    ),
    DemoService(
        name="Eastmere Youth Justice Health Team",
        organisation=EM_YJS,
        sector=Sector.YOUTH_JUSTICE,
        description="Health and wellbeing support for young people in the youth justice system.",
        ages=(10, 17),
        settings=("community",),
        routes=("youth-justice",),
        capacity=60,
        wait_weeks=1,
        offers=(
            _offer(HELP, 40, "Mental health assessment and brief intervention"),
            _offer(RISK, 40, "Multi-agency risk management"),
        ),
    ),
)

NORTHBRIDGE = DemoSite(
    name="Northbridge",
    slug="northbridge",
    region="North West",
    population={
        AgeBand.AGE_0_4: 16_500,
        AgeBand.AGE_5_10: 21_000,
        AgeBand.AGE_11_16: 20_500,
        AgeBand.AGE_17_19: 9_800,
        AgeBand.AGE_20_25: 19_000,
    },
    areas=(NB_CENTRAL, NB_ASHBY, NB_MILLFORD, NB_KIRKHOLME),
    organisations=NORTHBRIDGE_ORGANISATIONS,
    services=NORTHBRIDGE_SERVICES,
    recorded_by="northbridge-commissioner",
    with_assessment=True,
)

EASTMERE = DemoSite(
    name="Eastmere",
    slug="eastmere",
    region="East of England",
    population={
        AgeBand.AGE_0_4: 7_200,
        AgeBand.AGE_5_10: 9_400,
        AgeBand.AGE_11_16: 9_100,
        AgeBand.AGE_17_19: 4_300,
        AgeBand.AGE_20_25: 7_900,
    },
    areas=("Eastmere Town", "Fenwick", "Saltmarsh Coast"),
    organisations=EASTMERE_ORGANISATIONS,
    services=EASTMERE_SERVICES,
    recorded_by="eastmere-commissioner",
)

DEMO_SITES = (NORTHBRIDGE, EASTMERE)

DEMO_ACCOUNTS = (
    DemoAccount(
        "northbridge-commissioner",
        "Priya",
        "Shah",
        "Commissioner of Northbridge",
        memberships=(("northbridge", Role.COMMISSIONER),),
    ),
    DemoAccount(
        "northbridge-viewer",
        "Tom",
        "Bell",
        "Site viewer of Northbridge",
        memberships=(("northbridge", Role.VIEWER),),
    ),
    DemoAccount(
        "eastmere-commissioner",
        "Grace",
        "Okafor",
        "Commissioner of Eastmere",
        memberships=(("eastmere", Role.COMMISSIONER),),
    ),
    DemoAccount(
        "programme-reviewer",
        "Sam",
        "Rivers",
        "Programme reviewer (reads every site)",
        is_programme_reviewer=True,
    ),
    DemoAccount("admin", "Demo", "Administrator", "Administrator (staff superuser)", is_superuser=True),
)

# The user whose API token load_demo prints.
API_DEMO_USERNAME = "northbridge-commissioner"


@dataclass
class SiteResult:
    site: Site
    action: str
    organisations: int = 0
    services: int = 0
    offers: int = 0


@dataclass
class DemoResult:
    sites: list[SiteResult] = field(default_factory=list)
    accounts: list[tuple[DemoAccount, User]] = field(default_factory=list)
    token: str = ""


@transaction.atomic
def demo_load(*, reset: bool = False) -> DemoResult:
    """Create the demo accounts and sites. A demo site that already exists is left as
    it is (people may have edited it during a demonstration) unless `reset` is set,
    in which case it is deleted and loaded again. Accounts are always brought back to
    their demo roles and password, so running this twice changes nothing."""
    result = DemoResult()
    users = {account.username: _account_ensure(account) for account in DEMO_ACCOUNTS}
    for demo_site in DEMO_SITES:
        existing = Site.objects.filter(slug=demo_site.slug).first()
        if existing is not None and not reset:
            result.sites.append(SiteResult(site=existing, action="already loaded, left as it is"))
            continue
        if existing is not None:
            _site_delete(existing)
        result.sites.append(
            _site_load(
                demo_site, recorded_by=users[demo_site.recorded_by], action="reloaded" if existing else "created"
            )
        )
    for account in DEMO_ACCOUNTS:
        _memberships_ensure(account, users[account.username])
        result.accounts.append((account, users[account.username]))
    token, _ = Token.objects.get_or_create(user=users[API_DEMO_USERNAME])
    result.token = token.key
    return result


def _account_ensure(account: DemoAccount) -> User:
    user = User.objects.filter(username=account.username).first() or User(username=account.username)
    user.first_name = account.first_name
    user.last_name = account.last_name
    user.email = f"{account.username}@example.org"
    user.is_active = True
    user.is_programme_reviewer = account.is_programme_reviewer
    user.is_superuser = account.is_superuser
    user.is_staff = account.is_superuser
    # The demo password must pass the same rules as a real one (12 characters or more).
    validate_password(DEMO_PASSWORD, user)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _memberships_ensure(account: DemoAccount, user: User) -> None:
    wanted = {slug: role for slug, role in account.memberships}
    Membership.objects.filter(user=user).exclude(site__slug__in=wanted).delete()
    for slug, role in wanted.items():
        site = Site.objects.get(slug=slug)
        Membership.objects.update_or_create(user=user, site=site, defaults={"role": role})


def _site_delete(site: Site) -> None:
    """Delete a demo site with its register and the register's history.

    Services go first because a service protects its organisation from deletion.
    """
    service_ids = list(Service.objects.filter(site=site).values_list("pk", flat=True))
    Service.objects.filter(pk__in=service_ids).delete()
    site_id = site.pk
    site.delete()
    Service.history.filter(site_id=site_id).delete()
    Offer.history.filter(service_id__in=service_ids).delete()
    Organisation.history.filter(site_id=site_id).delete()


def _site_load(demo_site: DemoSite, *, recorded_by: User, action: str) -> SiteResult:
    site = Site.objects.create(name=demo_site.name, slug=demo_site.slug, region=demo_site.region)
    SitePopulation.objects.bulk_create(
        SitePopulation(site=site, age_band=band, people=people) for band, people in demo_site.population.items()
    )
    areas = {name: Area.objects.create(site=site, name=name) for name in demo_site.areas}
    organisations = {
        name: mapping_services.organisation_create(site=site, user=recorded_by, source="demo", name=name, sector=sector)
        for name, sector in demo_site.organisations
    }
    delivery_settings = {s.code: s for s in DeliverySetting.objects.all()}
    routes = {r.code: r for r in ReferralRoute.objects.all()}
    groupings = {g.code: g for g in Grouping.objects.all()}
    today = timezone.localdate()
    offers = 0
    for index, demo in enumerate(demo_site.services):
        days_ago = demo.checked_days_ago if demo.checked_days_ago is not None else 7 + (index * 37) % 300
        service = mapping_services.service_create(
            site=site,
            user=recorded_by,
            source="demo",
            data={
                "organisation": organisations[demo.organisation],
                "name": demo.name,
                "description": demo.description,
                "sector": demo.sector,
                "min_age": demo.ages[0],
                "max_age": demo.ages[1],
                "annual_capacity": demo.capacity,
                "typical_wait_weeks": demo.wait_weeks,
                "status": demo.status,
                "website": demo.website,
                "contact_email": demo.email,
                "contact_phone": demo.phone,
                "last_checked_on": today - timedelta(days=days_ago),
                "delivery_settings": [delivery_settings[code] for code in demo.settings],
                "referral_routes": [routes[code] for code in demo.routes],
                "areas": _pick(areas, demo.areas),
            },
        )
        if demo.offers:
            mapping_services.offers_replace(
                service=service,
                offers=[
                    mapping_services.OfferInput(groupings[o.grouping], o.share, o.description) for o in demo.offers
                ],
                user=recorded_by,
                source="demo",
            )
            offers += len(demo.offers)
    if demo_site.with_assessment:
        demo_rounds_load(site=site, user=recorded_by)
    # Last, so the analysis sees the register and the assessment.
    demo_run_load(site=site, user=recorded_by)
    return SiteResult(
        site=site,
        action=action,
        organisations=len(organisations),
        services=len(demo_site.services),
        offers=offers,
    )


def _pick(areas: dict[str, Area], names: Sequence[str] | None) -> list[Area]:
    if names is None:
        return list(areas.values())
    return [areas[name] for name in names]
