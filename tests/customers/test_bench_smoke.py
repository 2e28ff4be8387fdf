"""The benchmark's data generator at a tiny scale: rows carry the keys the application would
compute, the visibility rule sees them, and a rerun only adds what is missing. (The
benchmark itself runs on PostgreSQL only, outside the suite: python -m bench.run_customers.)"""

from bench.customers import Sizes, generate_customers
from bench.org import generate_org
from customers.models import Account, Contact, Interaction
from customers.selectors import account_list


def test_generator_fills_searchable_visible_rows_and_reruns_safely(db):
    org = generate_org(regions=2, teams_per_region=2, reps_per_team=2)
    sizes = Sizes(accounts=100, contacts=160, interactions=400)

    counts = generate_customers(sizes=sizes, org=org, log=lambda line: None)

    assert (counts["accounts"], counts["contacts"], counts["interactions"]) == (100, 160, 400)
    for account in Account.objects.order_by("pk")[:20]:
        stored = (account.name_normalized, account.name_pinyin, account.name_initials)
        stored += (account.phone_digits, account.email_domain, account.search_text)
        account.refresh_keys()
        assert stored == (
            account.name_normalized,
            account.name_pinyin,
            account.name_initials,
            account.phone_digits,
            account.email_domain,
            account.search_text,
        )
        account.full_clean(validate_constraints=False)
    for contact in Contact.objects.order_by("pk")[:20]:
        stored = (contact.name_pinyin, contact.name_initials, contact.search_text)
        contact.refresh_keys()
        assert stored == (contact.name_pinyin, contact.name_initials, contact.search_text)
    assert Account.objects.filter(owner__isnull=True, pool_team__isnull=False).exists()
    assert not Account.objects.filter(last_contacted_at__isnull=True).exists()
    assert Contact.objects.filter(is_primary=True).count() == 100
    assert Interaction.objects.filter(contact__isnull=False).count() == 400

    region_team, manager = org["regions"][0]
    visible = account_list(viewer=manager)
    assert 0 < visible.count() < 100
    assert not visible.exclude(pool_team__path__startswith=region_team.path).exists()
    assert account_list(viewer=manager, filters={"q": "shanghai"}).exists()

    bigger = generate_customers(
        sizes=Sizes(accounts=120, contacts=160, interactions=400), org=org, log=lambda line: None
    )
    assert (bigger["accounts"], bigger["contacts"], bigger["interactions"]) == (120, 160, 400)
    assert Account.objects.filter(external_id="bench-a-1").count() == 1
