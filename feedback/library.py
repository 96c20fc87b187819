"""Ready-made surveys a manager can start from (and that seed_demo creates).

Wording follows the standards in REFERENCE.md: the NHS Friends and Family Test question and
answers verbatim, and the CAHPS Clinician & Group domains (timely access, provider
communication, office staff, a 0-10 provider rating) with their Never/Sometimes/Usually/
Always frequency answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from feedback.models import Question, Survey

Kind = Question.Kind

FREQUENCY = (
    {"value": "never", "label": "Never", "label_es": "Nunca"},
    {"value": "sometimes", "label": "Sometimes", "label_es": "A veces"},
    {"value": "usually", "label": "Usually", "label_es": "Casi siempre"},
    {"value": "always", "label": "Always", "label_es": "Siempre"},
)
TOP_BOX = "always"

FFT_TEXT = "Overall, how was your experience of our service?"
FFT_TEXT_ES = "En general, ¿cómo fue su experiencia con nuestro servicio?"
WHY_TEXT = "Please can you tell us why you gave that answer?"
WHY_TEXT_ES = "¿Puede decirnos por qué dio esa respuesta?"


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    kind: str
    text: str
    text_es: str
    required: bool = False
    help_text: str = ""
    help_text_es: str = ""
    choices: tuple[dict, ...] = ()
    show_if: str | None = None  # key of an earlier question
    show_if_min: int | None = None
    show_if_max: int | None = None


@dataclass(frozen=True)
class SurveySpec:
    key: str
    title: str
    title_es: str
    description: str
    heading: str = ""  # what patients read at the top (the title is the team's name for it)
    heading_es: str = ""
    audience: str = Survey.Audience.PATIENT
    is_anonymous: bool = False
    intro: str = ""
    intro_es: str = ""
    thanks: str = ""
    thanks_es: str = ""
    questions: tuple[QuestionSpec, ...] = field(default_factory=tuple)


AFTER_YOUR_VISIT = SurveySpec(
    key="after-your-visit",
    title="After your visit",
    title_es="Después de su visita",
    heading="After your visit",
    heading_es="Después de su visita",
    description="Friends and Family Test, why, CAHPS-style questions on access, communication and "
    "office staff, and a 0-10 provider rating. Sent by invitation after a visit.",
    intro="Thank you for visiting us. These questions take about two minutes. "
    "Your answers help us improve; they do not affect your care.",
    intro_es="Gracias por visitarnos. Estas preguntas llevan unos dos minutos. "
    "Sus respuestas nos ayudan a mejorar y no afectan a su atención.",
    thanks="Thank you. Every answer is read by the practice team.",
    thanks_es="Gracias. El equipo de la consulta lee todas las respuestas.",
    questions=(
        QuestionSpec("fft", Kind.FFT, FFT_TEXT, FFT_TEXT_ES, required=True),
        QuestionSpec("why", Kind.TEXT, WHY_TEXT, WHY_TEXT_ES),
        QuestionSpec(
            "better",
            Kind.TEXT,
            "We are sorry. What could we have done better?",
            "Lo sentimos. ¿Qué podríamos haber hecho mejor?",
            show_if="fft",
            show_if_min=1,
            show_if_max=2,
        ),
        QuestionSpec(
            "urgent_access",
            Kind.SINGLE_CHOICE,
            "When you needed care right away, how often did you get an appointment as soon as you needed?",
            "Cuando necesitó atención urgente, ¿con qué frecuencia consiguió cita "
            "tan pronto como la necesitaba?",
            help_text="Leave this out if you did not need urgent care.",
            help_text_es="Déjela sin contestar si no necesitó atención urgente.",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "same_day_answer",
            Kind.SINGLE_CHOICE,
            "When you phoned during opening hours, how often did you get an answer to your question "
            "that same day?",
            "Cuando llamó en horario de apertura, ¿con qué frecuencia recibió respuesta el mismo día?",
            help_text="Leave this out if you did not phone us.",
            help_text_es="Déjela sin contestar si no nos llamó.",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "explained",
            Kind.SINGLE_CHOICE,
            "How often did your doctor or nurse explain things in a way that was easy to understand?",
            "¿Con qué frecuencia su médico o enfermera le explicó las cosas de forma fácil de entender?",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "listened",
            Kind.SINGLE_CHOICE,
            "How often did they listen carefully to you?",
            "¿Con qué frecuencia le escucharon con atención?",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "respect",
            Kind.SINGLE_CHOICE,
            "How often did they show respect for what you had to say?",
            "¿Con qué frecuencia mostraron respeto por lo que usted decía?",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "staff_helpful",
            Kind.SINGLE_CHOICE,
            "How often were the reception staff as helpful as you thought they should be?",
            "¿Con qué frecuencia el personal de recepción fue tan útil como usted esperaba?",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "staff_courteous",
            Kind.SINGLE_CHOICE,
            "How often did the reception staff treat you with courtesy and respect?",
            "¿Con qué frecuencia el personal de recepción le trató con cortesía y respeto?",
            choices=FREQUENCY,
        ),
        QuestionSpec(
            "provider_rating",
            Kind.NPS,
            "Using any number from 0 to 10, where 0 is the worst provider possible and 10 is the best "
            "provider possible, what number would you use to rate the clinician you saw?",
            "Usando un número del 0 al 10, donde 0 es el peor profesional posible y 10 el mejor, "
            "¿qué número usaría para valorar al profesional que le atendió?",
        ),
    ),
)

WAITING_ROOM_KIOSK = SurveySpec(
    key="waiting-room-kiosk",
    title="Waiting-room kiosk",
    title_es="Quiosco de la sala de espera",
    heading="How was your visit today?",
    heading_es="¿Qué tal su visita de hoy?",
    description="The Friends and Family Test and one free-text question, for a tablet in the waiting "
    "room or a QR poster. Takes under a minute.",
    intro="Tell us how we did today. It takes less than a minute and you don't need to give your name.",
    intro_es="Díganos qué tal lo hicimos hoy. Lleva menos de un minuto y no hace falta dar su nombre.",
    thanks="Thank you for helping us improve.",
    thanks_es="Gracias por ayudarnos a mejorar.",
    questions=(
        QuestionSpec("fft", Kind.FFT, FFT_TEXT, FFT_TEXT_ES, required=True),
        QuestionSpec("why", Kind.TEXT, WHY_TEXT, WHY_TEXT_ES),
    ),
)

STAFF_PULSE = SurveySpec(
    key="staff-pulse",
    title="Staff pulse",
    title_es="Pulso del equipo",
    description="Anonymous: how well we deliver for patients, whether people feel supported, and "
    "suggestions. Answered from My work; responses carry nothing that identifies anyone.",
    audience=Survey.Audience.STAFF,
    is_anonymous=True,
    intro="Anonymous: your answers are not linked to your account. Managers see only totals, "
    "and only once at least five people have answered.",
    intro_es="Anónima: sus respuestas no se vinculan a su cuenta.",
    thanks="Thank you. Suggestions are reviewed at the monthly team meeting.",
    thanks_es="Gracias. Las sugerencias se revisan en la reunión mensual del equipo.",
    questions=(
        QuestionSpec(
            "delivery",
            Kind.RATING,
            "How well do we deliver the service we promise patients?",
            "¿Qué tan bien cumplimos el servicio que prometemos a los pacientes?",
            required=True,
            help_text="1 = very poorly, 5 = very well.",
            help_text_es="1 = muy mal, 5 = muy bien.",
        ),
        QuestionSpec(
            "supported",
            Kind.RATING,
            "How well supported do you feel in your role this month?",
            "¿Cuánto apoyo siente en su puesto este mes?",
            help_text="1 = not at all, 5 = fully.",
            help_text_es="1 = nada, 5 = totalmente.",
        ),
        QuestionSpec(
            "attention",
            Kind.SINGLE_CHOICE,
            "Which area most needs attention?",
            "¿Qué área necesita más atención?",
            choices=(
                {"value": "phones", "label": "Phones and appointments", "label_es": "Teléfonos y citas"},
                {"value": "front-desk", "label": "Front desk", "label_es": "Recepción"},
                {"value": "clinical-flow", "label": "Clinic flow and waiting", "label_es": "Flujo y esperas"},
                {"value": "premises", "label": "Premises and equipment", "label_es": "Instalaciones"},
                {"value": "teamwork", "label": "Teamwork and handovers", "label_es": "Trabajo en equipo"},
                {"value": "systems", "label": "IT and systems", "label_es": "Informática"},
            ),
        ),
        QuestionSpec(
            "suggestion",
            Kind.TEXT,
            "What one change would make the biggest difference for patients?",
            "¿Qué cambio marcaría la mayor diferencia para los pacientes?",
        ),
    ),
)

READY_MADE: dict[str, SurveySpec] = {
    spec.key: spec for spec in (AFTER_YOUR_VISIT, WAITING_ROOM_KIOSK, STAFF_PULSE)
}
