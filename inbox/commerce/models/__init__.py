"""Commerce models: the catalog, orders with their payments and history, bookable resources and reservations."""

from inbox.commerce.models.catalog import CatalogImport, Product
from inbox.commerce.models.orders import Order, OrderEvent, OrderLine, OrderSequence, Payment, PaymentCallback
from inbox.commerce.models.reservations import ReminderSent, Reservation, Resource

__all__ = [
    "CatalogImport",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderSequence",
    "Payment",
    "PaymentCallback",
    "Product",
    "ReminderSent",
    "Reservation",
    "Resource",
]
