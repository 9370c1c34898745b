"""One screen per module; ``kiosk.app.SCREENS`` names them."""
