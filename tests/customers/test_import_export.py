"""Import of accounts and contacts from CSV and XLSX (dry run, all-or-nothing, valid rows
only, background jobs) and export of the filtered account list (visibility, filters,
formula injection, query counts)."""

import csv
import io

import openpyxl
import pytest
import tablib
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from customers import services
from customers.models import Account, Contact, ImportJob
from teams.models import User
from tests.customers.factories import AccountFactory, ContactFactory, TagFactory
from tests.utils import assert_constant_queries

HEADER = [
    "Account name",
    "Industry",
    "Region",
    "Employees",
    "Status",
    "Owner username",
    "Phone",
    "External id",
    "Contact name",
    "Contact email",
]


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path):
    """Uploads go to a temporary folder; messages, pages and files are in English, so the
    tests can look for English text."""
    settings.MEDIA_ROOT = tmp_path
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def org(org):
    User.objects.update(preferred_language="en")
    return org


def csv_bytes(rows, header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    dataset = tablib.Dataset(headers=header)
    for row in rows:
        dataset.append(row)
    return dataset.export("xlsx")


def upload(content: bytes, name: str = "accounts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def mixed_rows(org):
    AccountFactory(name="Already There", owner=org.rep_a, external_id="EXT-DB")
    return [
        ["Good Trading", "Manufacturing", "上海", "250", "prospect", "rep_a", "021-5555 0100",
         "EXT-1", "Wang Wei", "wang@good.example"],
        ["Bad Email Ltd", "retail", "", "", "", "", "", "", "Li Na", "not-an-email"],
        ["Unknown Industry Co", "space mining", "", "", "", "", "", "", "", ""],
        ["", "retail", "", "", "", "", "", "", "Zhao Lei", "zhao@x.example"],
        ["Second Name Same Id", "", "", "", "", "", "", "EXT-1", "", ""],
        ["Taken Id Inc", "", "", "", "", "", "", "EXT-DB", "", ""],
        ["Foreign Owner Ltd", "", "", "", "", "rep_b", "", "", "", ""],
    ]  # fmt: skip


def errors_by_row(job) -> dict[int, str]:
    return {error["row"]: " ".join(error["messages"]) for error in job.errors}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_mixed_file_reports_every_bad_row_and_writes_nothing(org, kind):
    rows = mixed_rows(org)
    content = csv_bytes(rows) if kind == "csv" else xlsx_bytes(rows)
    before = (Account.objects.count(), Contact.objects.count())

    job = services.import_job_create(by=org.sup_a, upload=upload(content, f"mixed.{kind}"))

    assert job.status == ImportJob.Status.CHECKED
    assert (job.total, job.valid_rows, job.bad_rows) == (7, 1, 6)
    errors = errors_by_row(job)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "Contact email" in errors[3] and "valid email" in errors[3]
    assert "space mining" in errors[4] and "unknown" in errors[4]
    assert "Account name" in errors[5]
    assert "row 2" in errors[6]
    assert "already exists" in errors[7]
    assert "rep_b" in errors[8] and "your teams" in errors[8]
    assert (Account.objects.count(), Contact.objects.count()) == before

    with pytest.raises(ValidationError):
        services.import_job_start(by=org.sup_a, job=job, valid_only=False)
    assert (Account.objects.count(), Contact.objects.count()) == before


def test_import_valid_rows_only(org):
    job = services.import_job_create(by=org.sup_a, upload=upload(csv_bytes(mixed_rows(org))))

    job = services.import_job_start(by=org.sup_a, job=job, valid_only=True)

    assert job.status == ImportJob.Status.DONE
    assert (job.created_accounts, job.created_contacts) == (1, 1)
    account = Account.objects.get(external_id="EXT-1")
    assert account.name == "Good Trading"
    assert account.owner == org.rep_a
    assert account.pool_team == org.rep_a.team
    assert account.source == Account.Source.IMPORT
    assert account.industry.code == "manufacturing"
    assert account.region.code == "shanghai"
    assert account.size_band == Account.SizeBand.LARGE
    assert account.status == Account.Status.PROSPECT
    contact = account.contacts.get()
    assert (contact.name, contact.email, contact.is_primary) == (
        "Wang Wei",
        "wang@good.example",
        True,
    )
    assert not Account.objects.filter(name__in=["Bad Email Ltd", "Foreign Owner Ltd"]).exists()


def test_all_valid_xlsx_creates_accounts_and_contacts_in_one_go(org):
    rows = [
        ["华信科技", "IT / software", "beijing", "30", "customer", "", "", "ERP-1", "王伟", ""],
        ["", "", "", "", "", "", "", "ERP-1", "李娜", "l@hx.example"],
        ["Blue River Foods", "零售", "Zhejiang", "", "lead", "", "", "", "", ""],
    ]  # fmt: skip
    job = services.import_job_create(by=org.rep_a, upload=upload(xlsx_bytes(rows), "a.xlsx"))
    assert (job.status, job.errors, job.valid_rows) == (ImportJob.Status.CHECKED, [], 3)

    job = services.import_job_start(by=org.rep_a, job=job, valid_only=False)

    assert job.status == ImportJob.Status.DONE
    assert (job.created_accounts, job.created_contacts) == (2, 2)
    huaxin = Account.objects.get(external_id="ERP-1")
    assert huaxin.owner == org.rep_a
    assert huaxin.status == Account.Status.CUSTOMER
    assert huaxin.name_initials == "hxkj"
    assert list(huaxin.contacts.order_by("pk").values_list("name", "is_primary")) == [
        ("王伟", True),
        ("李娜", False),
    ]
    assert Account.objects.get(name="Blue River Foods").region.code == "zhejiang"


def test_a_write_that_fails_half_way_leaves_nothing(org, monkeypatch):
    rows = [
        ["First Co", "", "", "", "", "", "", "", "", ""],
        ["Second Co", "", "", "", "", "", "", "", "", ""],
    ]
    job = services.import_job_create(by=org.rep_a, upload=upload(csv_bytes(rows)))
    original = services.account_create

    def fail_on_second(**kwargs):
        if kwargs["name"] == "Second Co":
            raise ValidationError({"name": ["Taken meanwhile."]})
        return original(**kwargs)

    monkeypatch.setattr(services, "account_create", fail_on_second)

    job = services.import_job_start(by=org.rep_a, job=job, valid_only=False)

    assert job.status == ImportJob.Status.FAILED
    assert "Row 3" in " ".join(job.errors[-1]["messages"])
    assert not Account.objects.filter(name="First Co").exists()


def test_large_files_run_in_celery_tasks_with_progress(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INLINE_IMPORT_MAX_ROWS", 3)
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    seen = []
    original = services._job_progress

    def spy(job):
        report = original(job)

        def progress(done):
            report(done)
            seen.append(ImportJob.objects.get(pk=job.pk).processed)

        return progress

    monkeypatch.setattr(services, "_job_progress", spy)
    rows = [[f"Company {n}", "", "", "", "", "", "", f"BIG-{n}", "", ""] for n in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_create(by=org.rep_a, upload=upload(csv_bytes(rows)))
    assert job.status == ImportJob.Status.PENDING  # the task checks it after the commit
    job.refresh_from_db()
    assert (job.status, job.processed, job.valid_rows) == (ImportJob.Status.CHECKED, 5, 5)
    assert seen == [2, 4, 5]

    seen.clear()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_start(by=org.rep_a, job=job, valid_only=False)
    assert job.status == ImportJob.Status.QUEUED
    job.refresh_from_db()
    assert (job.status, job.created_accounts) == (ImportJob.Status.DONE, 5)
    assert seen == [2, 4, 5]
    assert Account.objects.filter(external_id__startswith="BIG-", source="import").count() == 5

    # A task delivered twice (a worker died before acknowledging it) imports once.
    services.import_job_run(job_id=job.pk)
    assert Account.objects.filter(external_id__startswith="BIG-").count() == 5


def test_unreadable_files_and_missing_headers_are_clear_errors(org):
    with pytest.raises(ValidationError, match="CSV or XLSX"):
        services.import_job_create(by=org.rep_a, upload=upload(b"x", "accounts.pdf"))
    with pytest.raises(ValidationError, match="XLSX"):
        services.import_job_create(by=org.rep_a, upload=upload(b"not a zip", "accounts.xlsx"))
    with pytest.raises(ValidationError, match="Account name"):
        services.import_job_create(by=org.rep_a, upload=upload(b"foo,bar\n1,2\n"))
    assert not ImportJob.objects.exists()


def test_template_files_list_every_column_and_import_cleanly(org):
    for kind in ("csv", "xlsx"):
        content = services.import_template(file_format=kind)
        rows = services.import_read_file(content=content, filename=f"template.{kind}")
        assert [number for number, _values in rows] == [2, 3]
        checked = services.import_check(by=org.rep_a, rows=rows)
        assert [row.errors for row in checked] == [[], []]
        assert checked[1].account is None and checked[1].account_row == 2


def test_csv_from_a_chinese_excel_is_read_as_gb18030(org):
    content = "客户名称,行业,联系人\n华信科技,制造业,王伟\n".encode("gb18030")
    rows = services.import_read_file(content=content, filename="客户.csv")
    assert rows == [(2, {"account_name": "华信科技", "industry": "制造业", "contact_name": "王伟"})]
    checked = services.import_check(by=org.rep_a, rows=rows)
    assert checked[0].errors == []
    assert checked[0].account["industry"].code == "manufacturing"


def test_neutralised_cells_come_back_as_their_text(org):
    rows = services.import_read_file(
        content=csv_bytes([["'=Co", "", "", "", "", "", "'+86 21 5555 0100", "", "", ""]]),
        filename="a.csv",
    )
    assert rows[0][1]["account_name"] == "=Co"
    assert rows[0][1]["phone"] == "+86 21 5555 0100"


# Pages


def test_import_pages_preview_and_import_valid_rows(org, client_for):
    client = client_for(org.sup_a)
    response = client.get(reverse("customers:account_import"))
    assert response.status_code == 200
    assert b"Contact WeChat id" in response.content

    response = client.post(
        reverse("customers:account_import"), {"file": upload(csv_bytes(mixed_rows(org)))}
    )
    job = ImportJob.objects.get(user=org.sup_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import_job", args=[job.pk])

    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "space mining" in text
    assert 'value="valid"' in text and 'value="all"' not in text

    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert b"<html" not in partial.content and b"import-job" in partial.content

    client.post(reverse("customers:import_job_start", args=[job.pk]), {"mode": "all"})
    assert not Account.objects.filter(external_id="EXT-1").exists()
    client.post(reverse("customers:import_job_start", args=[job.pk]), {"mode": "valid"})
    assert Account.objects.filter(external_id="EXT-1").exists()


def test_someone_elses_import_is_not_found(org, client_for):
    job = services.import_job_create(by=org.sup_a, upload=upload(csv_bytes([["X Co"] + [""] * 9])))
    client = client_for(org.east_mgr)
    assert client.get(reverse("customers:import_job", args=[job.pk])).status_code == 404
    response = client.post(reverse("customers:import_job_start", args=[job.pk]), {"mode": "all"})
    assert response.status_code == 404
    assert not Account.objects.filter(name="X Co").exists()


def test_template_download(org, client_for):
    response = client_for(org.rep_a).get(reverse("customers:import_template", args=["xlsx"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "Account name"


# Export


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def read_xlsx(response) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def names_of(rows) -> set[str]:
    return {row[1] for row in rows[1:]}


@pytest.fixture
def two_teams(org):
    AccountFactory(name="Mine", owner=org.rep_a, status=Account.Status.CUSTOMER)
    AccountFactory(name="Also mine", owner=org.rep_a, status=Account.Status.LEAD)
    AccountFactory(name="Sibling", owner=org.rep_b, status=Account.Status.CUSTOMER)
    AccountFactory(name="Other region", owner=org.rep_north)
    return org


def export_url(kind, query=""):
    return reverse("customers:account_export", args=[kind]) + query


def test_export_has_only_visible_rows(two_teams, client_for):
    org = two_teams
    rep = read_csv(client_for(org.rep_a).get(export_url("csv")))
    assert names_of(rep) == {"Mine", "Also mine"}
    manager = read_xlsx(client_for(org.east_mgr).get(export_url("xlsx")))
    assert names_of(manager) == {"Mine", "Also mine", "Sibling"}


def test_export_honours_the_list_filters(two_teams, client_for):
    client = client_for(two_teams.east_mgr)
    rows = read_csv(client.get(export_url("csv", "?status=customer")))
    assert names_of(rows) == {"Mine", "Sibling"}
    rows = read_csv(client.get(export_url("csv", "?status=customer&q=sibling")))
    assert names_of(rows) == {"Sibling"}
    rows = read_csv(client.get(export_url("csv", "?sort=name")))
    assert [row[1] for row in rows[1:]] == ["Also mine", "Mine", "Sibling"]


def test_api_export_with_filters_and_visibility(two_teams, token_client):
    client = token_client(two_teams.rep_a)
    response = client.get("/api/v1/accounts/export/?format=csv&status=customer")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert names_of(read_csv(response)) == {"Mine"}
    response = client.get("/api/v1/accounts/export/?format=xlsx")
    assert response.status_code == 200
    assert names_of(read_xlsx(response)) == {"Mine", "Also mine"}
    assert client.get("/api/v1/accounts/export/?format=pdf").status_code == 404


DANGEROUS = ['=HYPERLINK("http://evil")', "+1+2", "-3+4", "@SUM(A1)", "\tTab", "\rReturn"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_neutralises_formulas(org, client_for, kind):
    for index, value in enumerate(DANGEROUS):
        AccountFactory(name=f"{value} {index}", owner=org.rep_a, notes=value)
    response = client_for(org.rep_a).get(export_url(kind))
    rows = read_csv(response) if kind == "csv" else read_xlsx(response)
    notes_column = rows[0].index("Notes")
    # Names are stored stripped, so only the notes keep a leading tab or carriage return.
    names = [row[1] for row in rows[1:] if not row[1].startswith(("Tab", "Return"))]
    assert len(names) == 4
    for cell in names + [row[notes_column] for row in rows[1:]]:
        assert cell.startswith("'"), cell
    # XLSX stores a carriage return as a line feed.
    notes = sorted(row[notes_column].replace("\r", "\n") for row in rows[1:])
    assert notes == sorted(f"'{value}".replace("\r", "\n") for value in DANGEROUS)


def test_neutralize_cell_leaves_safe_values():
    assert services.neutralize_cell("Acme") == "Acme"
    assert services.neutralize_cell(-5) == -5
    assert services.neutralize_cell("") == ""
    assert services.neutralize_cell("-") == "'-"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("via", ["page", "api"])
def test_export_query_count_is_constant(org, client_for, token_client, kind, via):
    if via == "page":
        client, url = client_for(org.east_mgr), export_url(kind)
    else:
        client, url = token_client(org.east_mgr), f"/api/v1/accounts/export/?format={kind}"
    counter = iter(range(1000))

    def add_rows(count):
        for _ in range(count):
            n = next(counter)
            account = AccountFactory(name=f"Row {n}", owner=org.rep_a if n % 2 else org.rep_b)
            account.tags.add(TagFactory())
            ContactFactory(account=account)

    def export():
        response = client.get(url)
        if kind == "csv":
            b"".join(response.streaming_content)
        return response

    assert_constant_queries(add_rows, export)


def test_anonymous_cannot_export_or_import(client, api_client):
    for url in (
        export_url("csv"),
        reverse("customers:account_import"),
        reverse("customers:import_template", args=["csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("teams:login") in response["Location"]
    assert api_client.get("/api/v1/accounts/export/?format=csv").status_code == 401


def test_admins_look_imports_up_in_the_admin(org, client_for):
    job = services.import_job_create(
        by=org.rep_a, upload=upload(csv_bytes([["Admin Seen Co"] + [""] * 9]))
    )
    client = client_for(org.root)
    response = client.get(reverse("admin:customers_importjob_changelist"))
    assert response.status_code == 200
    assert job.original_name in response.content.decode()
    detail = client.get(reverse("admin:customers_importjob_change", args=[job.pk]))
    assert detail.status_code == 200
