"""The synthetic company's fixed parameters: who its customers are, what can go wrong, and how much it hurts.

Everything a later stage is judged against (carrier lateness, defect rates, the size of each
experience's effect on satisfaction) is declared here once, so the ground truth in `_truth/` and the
simulation can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS = ("consumer", "smb", "enterprise")
SEGMENT_SHARE = np.array([0.80, 0.15, 0.05])
REGIONS = ("north", "south", "east", "west", "central")
REGION_SHARE = np.array([0.24, 0.22, 0.2, 0.22, 0.12])
REGION_LATENESS = np.array([1.0, 1.35, 0.9, 1.1, 0.75])  # the south is served worse
PLANS = ("basic", "plus", "premium")
PLAN_SHARE = np.array([0.55, 0.30, 0.15])
PROMISE_DAYS = np.array([5, 3, 2])  # delivery promise per plan
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_SHARE = np.array([0.12, 0.24, 0.22, 0.18, 0.14, 0.10])
# Older customers are a little happier on average and answer surveys more readily; premium customers
# too. Both are visible in the `customers` table, so this part of who answers can be corrected for.
AGE_SATISFACTION = np.array([-0.8, -0.45, 0.0, 0.25, 0.5, 0.8])
AGE_RESPONSE = np.array([0.4, 0.65, 0.95, 1.25, 1.55, 1.85])
PLAN_RESPONSE = np.array([0.8, 1.1, 1.4])

CARRIERS = ("SwiftShip", "ParcelPro", "Northwind Freight", "BudgetPost", "EcoCourier")
CARRIER_SHARE = np.array([0.30, 0.25, 0.15, 0.20, 0.10])
CARRIER_LATE_P = np.array([0.06, 0.10, 0.08, 0.22, 0.14])
CARRIER_LATE_DAYS = np.array([1.0, 1.5, 1.2, 2.5, 2.0])  # mean extra days when late
CARRIER_LOST_P = np.array([0.002, 0.004, 0.003, 0.012, 0.005])
CARRIER_DAMAGE_P = np.array([0.008, 0.012, 0.006, 0.025, 0.010])

PRODUCTS = ("blender", "coffee maker", "vacuum cleaner", "headphones", "smartwatch", "air fryer", "kettle")
PRODUCT_SHARE = np.array([0.14, 0.16, 0.12, 0.18, 0.10, 0.15, 0.15])
PRODUCT_PRICE = np.array([89.0, 129.0, 249.0, 149.0, 279.0, 119.0, 45.0])
PRODUCT_DEFECT_P = np.array([0.015, 0.030, 0.020, 0.012, 0.045, 0.025, 0.008])
PRODUCT_REJECT_P = np.array([0.20, 0.25, 0.30, 0.15, 0.35, 0.20, 0.10])
CLAIM_REASONS = ("stopped working", "broken part", "battery issue", "cosmetic damage", "missing accessory")

# Issues: the taxonomy shared by tickets, calls and negative texts (the planted "themes").
ISSUES = (
    "late_delivery",
    "lost_order",
    "damaged_item",
    "product_defect",
    "refund_delay",
    "billing_error",
    "rude_agent",
    "long_wait",
    "account_access",
    "return_request",
)
ISSUE = {name: code for code, name in enumerate(ISSUES)}
ISSUE_CATEGORY = (
    "delivery",
    "delivery",
    "delivery",
    "product defect",
    "warranty",
    "billing",
    "complaint",
    "complaint",
    "account",
    "returns",
)
CHANNELS = ("email", "chat", "phone", "web form")
CHANNEL_SHARE = np.array([0.35, 0.25, 0.30, 0.10])
PHONE = 2
PRIORITIES = ("low", "normal", "high", "urgent")
SOURCES = ("review", "social", "email", "chat")
SOURCE_SHARE = np.array([0.35, 0.30, 0.20, 0.15])
LANGUAGES = ("en", "es", "de", "fr")
LANGUAGE_SHARE = np.array([0.94, 0.025, 0.02, 0.015])
TOUCHPOINTS = ("after_delivery", "after_ticket_close", "relationship")
CHURN_REASONS_OTHER = ("price", "switched to competitor", "no longer needed", "moved away")


@dataclass(frozen=True)
class Drivers:
    """How much each experience moves latent satisfaction (0-10 scale), before customer sensitivity.

    Negative values hurt. The delivery, product and service groups are scaled by the customer's own
    sensitivity to that group, so two customers can react differently to the same late parcel.
    """

    on_time: float = 0.04
    late_base: float = -0.30
    late_per_day: float = -0.12
    lost: float = -1.6
    damaged: float = -0.9
    defect: float = -0.7
    claim_rejected: float = -1.0
    claim_partial: float = -0.4
    claim_slow: float = -0.4
    claim_approved: float = 0.25
    ticket_escalated: float = -0.5
    ticket_reopened: float = -0.7
    ticket_quick: float = 0.10
    long_wait: float = -0.5
    recovery: float = 0.07  # share of the gap to baseline closed per step (~2.5 months half-life)
    drift_sd: float = 0.08


DRIVERS = Drivers()
DRIVER_GROUPS = {"delivery": 0, "product": 1, "service": 2}


@dataclass(frozen=True)
class Rates:
    """Volumes and probabilities, per customer and step (a quarter of a month) unless named otherwise."""

    orders_per_year: float = 9.0
    ticket_after_late: float = 0.25
    ticket_after_lost: float = 0.75
    ticket_after_damaged: float = 0.6
    ticket_after_claim: float = 0.35
    background_ticket: float = 0.012
    extra_call: float = 0.010
    verbatim: float = 0.022
    invite_after_delivery: float = 0.7
    invite_after_ticket: float = 0.8
    respond_after_delivery: float = 0.14
    respond_after_ticket: float = 0.3
    respond_relationship: float = 0.15
    comment: float = 0.3
    churn_per_step: float = 0.0022
    nps_noise_sd: float = 1.6
    rater_bias_sd: float = 0.5


RATES = Rates()
