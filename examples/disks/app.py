from quaver import Quaver
from routes.disk_api import disks_api
app = Quaver(__name__)
app.register_blueprint(disks_api, url_prefix='/api/disks')
if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5000)
