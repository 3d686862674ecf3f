"""A default team, open around the clock, with SLA policies for every priority and
canned responses in English and Spanish, so a fresh install answers tickets at once."""

from django.db import migrations

POLICIES = {4: (15, 240), 3: (30, 480), 2: (60, 1440), 1: (240, 4320)}
CANNED = [
    ("handoff_public", "en", "Handoff: public",
     "Hi {contact_name}, sorry about this. We've sent you a direct message so we can sort it out privately ({ticket_number})."),
    ("handoff_public", "es", "Traspaso: público",
     "Hola {contact_name}, lamentamos lo ocurrido. Te hemos escrito por mensaje directo para resolverlo en privado ({ticket_number})."),
    ("handoff_dm", "en", "Handoff: DM",
     "Hi {contact_name}, this is {agent_name} from support ({ticket_number}). Could you give us the details here? You can also call {phone} or use {form_url}."),
    ("handoff_dm", "es", "Traspaso: mensaje directo",
     "Hola {contact_name}, soy {agent_name} de soporte ({ticket_number}). ¿Nos das los detalles por aquí? También puedes llamar al {phone} o usar {form_url}."),
    ("general", "en", "Help centre",
     "Hi {contact_name}, you'll find the steps here: {help_url}. If that doesn't fix it, call us at {phone}."),
    ("general", "es", "Centro de ayuda",
     "Hola {contact_name}, aquí tienes los pasos: {help_url}. Si no se soluciona, llámanos al {phone}."),
    ("csat", "en", "Satisfaction survey",
     "Your ticket {ticket_number} is resolved. How did we do? Rate us from 1 to 5: {csat_link}"),
    ("csat", "es", "Encuesta de satisfacción",
     "Tu caso {ticket_number} está resuelto. ¿Qué tal lo hicimos? Puntúanos del 1 al 5: {csat_link}"),
]


def create(apps, schema_editor):
    Team = apps.get_model("support", "Team")
    SlaPolicy = apps.get_model("support", "SlaPolicy")
    CannedResponse = apps.get_model("support", "CannedResponse")
    team, _ = Team.objects.get_or_create(name="Support", defaults={"is_default": True})
    for priority, (first, resolution) in POLICIES.items():
        SlaPolicy.objects.get_or_create(
            team=team,
            priority=priority,
            defaults={"first_response_minutes": first, "resolution_minutes": resolution},
        )
    for purpose, language, name, body in CANNED:
        CannedResponse.objects.get_or_create(
            team=None, purpose=purpose, language=language, name=name, defaults={"body": body}
        )


def remove(apps, schema_editor):
    apps.get_model("support", "CannedResponse").objects.filter(
        team=None, name__in=[c[2] for c in CANNED]
    ).delete()
    apps.get_model("support", "Team").objects.filter(name="Support", tickets=None).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_tickets_sla_incidents_csat")]

    operations = [migrations.RunPython(create, remove)]
