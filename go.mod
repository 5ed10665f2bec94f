module github.com/mediaseal/mediaseal

go 1.26.8
