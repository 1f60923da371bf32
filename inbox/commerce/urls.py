from django.urls import include, path

from inbox.commerce import api
from inbox.commerce.views import pages, panel, public

app_name = "commerce"

page_patterns = [
    path("orders/", pages.order_list, name="orders"),
    path("orders/<int:order_id>/", pages.order_detail, name="order"),
    path("reservations/", pages.reservation_list, name="reservations"),
    path("reservations/<int:reservation_id>.ics", pages.reservation_ics, name="reservation-ics"),
    path("catalog/", pages.catalog_page, name="catalog"),
    path("catalog/imports/<int:import_id>/", pages.catalog_import, name="catalog-import"),
    path("resources/", pages.resource_page, name="resources"),
    path("resources/<int:resource_id>/", pages.resource_page, name="resource"),
    # The conversation-side panel (included by the inbox page) and its actions.
    path("conversations/<int:conversation_id>/", panel.panel_page, name="conversation"),
    path("conversations/<int:conversation_id>/panel", panel.panel, name="panel"),
    path("conversations/<int:conversation_id>/orders", panel.order_create, name="panel-order-create"),
    path("conversations/<int:conversation_id>/orders/<int:order_id>", panel.order_action, name="panel-order-action"),
    path("conversations/<int:conversation_id>/reservations", panel.reservation_create,
         name="panel-reservation-create"),
    path("conversations/<int:conversation_id>/reservations/<int:reservation_id>", panel.reservation_action,
         name="panel-reservation-action"),
    # No login: reachable by signature or unguessable token only.
    path("payments/<slug:provider>/callback", public.payment_callback, name="payment-callback"),
    path("pay/fake/<str:reference>/", public.fake_checkout, name="fake-checkout"),
    path("r/<str:token>.ics", public.reservation_ics_public, name="reservation-ics-public"),
]

api_patterns = [
    path("orders/", api.OrderListCreate.as_view(), name="api-orders"),
    path("orders/<int:order_id>/", api.OrderDetail.as_view(), name="api-order"),
    path("orders/<int:order_id>/transition/", api.OrderTransition.as_view(), name="api-order-transition"),
    path("orders/<int:order_id>/send-summary/", api.OrderSendSummary.as_view(), name="api-order-summary"),
    path("reservations/", api.ReservationListCreate.as_view(), name="api-reservations"),
    path("reservations/<int:reservation_id>/", api.ReservationDetail.as_view(), name="api-reservation"),
    path("reservations/<int:reservation_id>/transition/", api.ReservationTransition.as_view(),
         name="api-reservation-transition"),
    path("resources/<int:resource_id>/availability/", api.ResourceAvailability.as_view(),
         name="api-resource-availability"),
]

# One include in switchboard/urls.py: pages under /commerce/, the REST API under /api/v1/.
urlpatterns = [
    path("commerce/", include(page_patterns)),
    path("api/v1/", include(api_patterns)),
]
