"""The hospital site pack (H- requirements): everything the hospital adds to the platform, in one
manifest (the contract is :mod:`pos.packs`; listed in ``pyproject.toml`` under ``onestop.packs``)."""

from __future__ import annotations

from ..packs import Pack, Projection
from .events import DECLARED
from .his_events import HIS_KINDS
from .his_projection import EVENTS as HIS_EVENTS

__all__ = ["PACK"]


_P = "pos.hospital.projections:"

PACK = Pack(
    name="hospital",
    summary="Inpatient admission to discharge: notices, deposits, beds, charges, insurance settlement",
    store_migrations=("pos.hospital.schema", "pos.hospital.projections", "pos.hospital.green",
                      "pos.hospital.bedside", "pos.hospital.photos"),
    server_migrations=("pos.hospital.server_schema", "pos.hospital.his_schema"),
    server="pos.hospital.server",
    kinds=DECLARED + HIS_KINDS,
    series=("ZY",),                         # 住院号: ZY<device>-000123
    projections=(
        Projection("beds", ("bed.changed",), _P + "bed_changed", reset=_P + "reset_beds",
                   latest_by=(("bed.changed", "bed_id"),)),
        Projection("admissions", ("admission.notice", "admission.registered", "discharge.scheduled", "discharged",
                                  "charge.line", "settlement.recorded", "settlement.cancelled"), _P + "admission_event",
                   reset=_P + "reset_admissions",
                   latest_by=(("admission.notice", "notice_no"), ("admission.registered", "inpatient_no"),
                              ("discharge.scheduled", "inpatient_no"), ("discharged", "inpatient_no"),
                              ("charge.line", "charge_ref"), ("settlement.recorded", "settlement_no"),
                              ("settlement.cancelled", "settlement_no"))),
        Projection("his", HIS_EVENTS, "pos.hospital.his_projection:apply"),
        Projection("bedside", ("bedside.opened", "bedside.joined", "bedside.settled"), "pos.hospital.bedside:apply"),
        Projection("bed_marks", ("bed.marked",), _P + "bed_marked", reset=_P + "reset_bed_marks",
                   latest_by=(("bed.marked", "bed_id"),)),
        Projection("discharge_requests", ("discharge.requested",), _P + "discharge_requested",
                   reset=_P + "reset_discharge_requests", latest_by=(("discharge.requested", "inpatient_no"),)),
        Projection("daily_lists", ("daily_list.printed",), _P + "daily_list_printed", reset=_P + "reset_daily_lists",
                   latest_by=(("daily_list.printed", "inpatient_no"),)),
        Projection("photos", ("photo.taken",), "pos.hospital.photos:apply_pulled", reset="pos.hospital.photos:reset",
                   latest_by=(("photo.taken", "inpatient_no"),)),
    ),
    config="pos.hospital.config:SECTIONS",
    services={"hospital": "pos.hospital.site:hospital_service", "gateway": "pos.hospital.site:gateway",
              "documents": "pos.hospital.site:document_printer"},
    flows={"checkin": "pos.flows.checkin:CheckinFlow", "discharge": "pos.flows.discharge:DischargeFlow",
           "daily": "pos.flows.daily:DailyListFlow", "topup": "pos.flows.topup:TopupFlow"},
    fronts={
        "kiosk": ("home", "identify", "checkin_confirm", "amount", "pay", "finish", "daily_list", "discharge_review"),
        "demo": ("home", "identify", "checkin_confirm", "amount", "pay", "finish", "daily_list", "discharge_review"),
        "counter": ("login", "counter_home", "counter_patient", "counter_register", "counter_deposit",
                    "counter_discharge", "counter_indoubt", "counter_reprints", "counter_green", "counter_shift",
                    "counter_bedside"),
        "ward": ("ward_login", "ward_board", "ward_identity", "ward_stay", "ward_bedside", "ward_green"),
    },
    screens={**{n: f"kiosk.patient.{n}" for n in ("home", "identify", "checkin_confirm", "amount", "pay", "finish",
                                                 "daily_list", "discharge_review")},
             **{f"counter_{n}": f"kiosk.counter.{n}" for n in ("home", "patient", "register", "deposit", "discharge",
                                                               "indoubt", "reprints", "green", "shift", "bedside")},
             "ward_login": "kiosk.ward.login", "ward_board": "kiosk.ward.board", "ward_identity": "kiosk.ward.identity",
             "ward_stay": "kiosk.ward.stay", "ward_bedside": "kiosk.ward.bedside",
             "ward_green": "kiosk.ward.green"},
    catalogues={"insurance_policy": "assets/config/insurance.toml"},
    documents={"printer": "pos.hospital.print_docs:DocumentPrinter"},
    posters="pos.hospital.payments_bridge:POSTERS",
    demo="pos.hospital.demo:seed_site",
    recover="pos.hospital.site:recover",
    interfaces={"hl7v2": "pos.hospital.his_interface"},
    fhir="pos.hospital.fhir_view",
)
