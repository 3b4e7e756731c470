module volcert.local/pause

go 1.22
