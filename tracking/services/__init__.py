"""Write-side services for tracking: unsubscribes and ESP feedback, opens and clicks."""
