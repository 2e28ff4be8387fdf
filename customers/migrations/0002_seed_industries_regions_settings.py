"""Bilingual default industries and regions (China's provincial-level divisions plus
Overseas) and the settings row. Re-running leaves admin edits alone: rows are matched by code
and only created when missing."""

from django.db import migrations

INDUSTRIES = [
    ("manufacturing", "Manufacturing", "制造业"),
    ("it-software", "IT / software", "IT/软件"),
    ("retail", "Retail", "零售"),
    ("finance", "Finance", "金融"),
    ("healthcare", "Healthcare", "医疗健康"),
    ("logistics", "Logistics", "物流"),
    ("energy", "Energy", "能源"),
    ("education", "Education", "教育"),
    ("real-estate", "Real estate", "房地产"),
    ("automotive", "Automotive", "汽车"),
    ("telecom", "Telecommunications", "通信"),
    ("other", "Other", "其他"),
]

REGIONS = [
    ("beijing", "Beijing", "北京"),
    ("tianjin", "Tianjin", "天津"),
    ("shanghai", "Shanghai", "上海"),
    ("chongqing", "Chongqing", "重庆"),
    ("hebei", "Hebei", "河北"),
    ("shanxi", "Shanxi", "山西"),
    ("liaoning", "Liaoning", "辽宁"),
    ("jilin", "Jilin", "吉林"),
    ("heilongjiang", "Heilongjiang", "黑龙江"),
    ("jiangsu", "Jiangsu", "江苏"),
    ("zhejiang", "Zhejiang", "浙江"),
    ("anhui", "Anhui", "安徽"),
    ("fujian", "Fujian", "福建"),
    ("jiangxi", "Jiangxi", "江西"),
    ("shandong", "Shandong", "山东"),
    ("henan", "Henan", "河南"),
    ("hubei", "Hubei", "湖北"),
    ("hunan", "Hunan", "湖南"),
    ("guangdong", "Guangdong", "广东"),
    ("hainan", "Hainan", "海南"),
    ("sichuan", "Sichuan", "四川"),
    ("guizhou", "Guizhou", "贵州"),
    ("yunnan", "Yunnan", "云南"),
    ("shaanxi", "Shaanxi", "陕西"),
    ("gansu", "Gansu", "甘肃"),
    ("qinghai", "Qinghai", "青海"),
    ("inner-mongolia", "Inner Mongolia", "内蒙古"),
    ("guangxi", "Guangxi", "广西"),
    ("tibet", "Tibet", "西藏"),
    ("ningxia", "Ningxia", "宁夏"),
    ("xinjiang", "Xinjiang", "新疆"),
    ("hong-kong", "Hong Kong", "香港"),
    ("macau", "Macau", "澳门"),
    ("taiwan", "Taiwan", "台湾"),
    ("overseas", "Overseas", "海外"),
]


def seed(apps, schema_editor):
    for model_name, rows in (("Industry", INDUSTRIES), ("Region", REGIONS)):
        model = apps.get_model("customers", model_name)
        for order, (code, name, name_zh) in enumerate(rows, start=1):
            model.objects.get_or_create(
                code=code, defaults={"name": name, "name_zh": name_zh, "order": order * 10}
            )
    apps.get_model("customers", "CustomerSettings").objects.get_or_create(pk=1)


def unseed(apps, schema_editor):
    for model_name, rows in (("Industry", INDUSTRIES), ("Region", REGIONS)):
        model = apps.get_model("customers", model_name)
        model.objects.filter(code__in=[code for code, _name, _zh in rows], accounts=None).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_accounts_contacts_interactions_followups")]

    operations = [migrations.RunPython(seed, unseed)]
