c = (1, 2)
d = "string"
